"Fast checks of vlp_edu.simvlg that need no LLM: configs, TomeFormer merging, the frozen encoder, the temporal gate."
import json
import torch
from vlp_edu.data import ShapesWorldClips
import pytest
from vlp_edu.simvlg import (SimVLGConfig, TomeFormer, FrozenMobileNet, TemporalAttention, ReleasedTemporalMerge,
                            MotionPairs, REVERSED_MOTION, reverse_caption, mobilenet_grid, llm_layer_indices,
                            motion_accuracy)


def test_presets_token_counts():
    assert SimVLGConfig.preset("tiny").tokens_per_layer() == [257, 129, 65, 33, 17]
    tiny = SimVLGConfig.preset("tiny")
    assert tiny.n_tokens == 257 and tiny.replace(r=64).tokens_per_layer()[-1] == 33
    small, base = SimVLGConfig.preset("small"), SimVLGConfig.preset("base")
    assert small.tokens_per_layer()[-1] == 29 == base.tokens_per_layer()[-1]
    assert small.n_tokens == 257 == base.n_tokens
    c = SimVLGConfig(n_frames=4, temporal_at=(3, -1))
    assert SimVLGConfig.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    assert mobilenet_grid(64, 7) == 8 and mobilenet_grid(256, 14) == 16 and mobilenet_grid(128, 7) == 16
    c = SimVLGConfig(llm_layers=(0, 1, 28, 29))
    assert SimVLGConfig.from_dict(json.loads(json.dumps(c.to_dict()))) == c


def test_llm_layer_indices():
    assert llm_layer_indices(None) == tuple(range(30)) and llm_layer_indices(2) == (0, 1)
    tiny_layers = SimVLGConfig.preset("tiny").llm_layers
    assert llm_layer_indices([0, 1, 28, 29]) == (0, 1, 28, 29) == llm_layer_indices(tiny_layers)


def test_motion_accuracy():
    ds = ShapesWorldClips(4, image_size=64, clip_len=4)
    clips, caps = [ds[i]["clip"] for i in range(4)], [ds[i]["captions"][0] for i in range(4)]
    mentions = sum(c.count(" mov") + c.count(" stays") for c in caps)
    assert motion_accuracy(caps, clips) == {"motion_acc": 1.0, "object_acc": 1.0, "motion_mentions": mentions}
    flip = {"left": "right", "right": "left", "up": "down", "down": "up", "still": "left"}
    bad = [" ".join(flip.get(w, w) if prev in ("moves", "stays") else w for prev, w in zip([""] + c.split(), c.split()))
           for c in caps]
    bad = [c.replace("stays left", "moves left") for c in bad]
    assert motion_accuracy(bad, clips)["motion_acc"] == 0.0


def test_tomeformer_keeps_cls_and_follows_schedule():
    torch.manual_seed(0)
    for merge in ("wavg", "mean"):
        tf = TomeFormer(32, 65, d_model=64, n_heads=4, d_ff=128, n_layers=3, r=16, merge=merge)
        out, st = tf(torch.randn(2, 65, 32), trace_source=True)
        assert out.shape == (2, 17, 576) and st.n_tokens == [49, 33, 17]
        assert (st.source[:, 0, 0] == 1).all() and (st.source[:, 0, 1:] == 0).all()
        assert torch.equal(st.source.sum((1, 2)), torch.tensor([65., 65.]))


def test_temporal_gate_starts_as_identity():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 24, 5, 5)
    ta = TemporalAttention(24)
    with torch.no_grad(): assert torch.equal(ta(x), x)
    enc = FrozenMobileNet(7, pretrained=False, temporal_at=(3, -1), max_frames=4).eval()
    img = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(enc(img[:, None].expand(-1, 4, -1, -1, -1)), enc(img), atol=1e-5)
    assert not any(p.requires_grad for p in enc.net.parameters())
    assert all(p.requires_grad for p in enc.temporal.parameters())


def test_temporal_option_in_config():
    c = SimVLGConfig(n_frames=4, temporal_at=(3, -1), temporal="released")
    assert SimVLGConfig.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    old = {k: v for k, v in c.to_dict().items() if k != "temporal"}          # a config.json written before the option
    assert SimVLGConfig.from_dict(old).temporal == "ours" == SimVLGConfig().temporal
    kinds = {k: FrozenMobileNet(7, pretrained=False, temporal_at=(3, -1), max_frames=4, temporal=k).temporal
             for k in ("ours", "released", "mean")}
    assert [type(m) for m in kinds["ours"].values()] == [TemporalAttention] * 2
    assert [type(m) for m in kinds["released"].values()] == [ReleasedTemporalMerge] * 2
    assert len(kinds["mean"]) == 0
    with pytest.raises(ValueError, match="temporal='lstm'"): FrozenMobileNet(7, pretrained=False, temporal="lstm")


def test_released_temporal_merge_is_permutation_equivariant():
    torch.manual_seed(0)
    rt = ReleasedTemporalMerge(24)
    x = torch.randn(2, 4, 24, 5, 5)                                         # (B, T, C, h, w)
    perm = torch.tensor([3, 1, 0, 2])
    with torch.no_grad():
        assert torch.equal(rt(x), x)                                         # gate closed: the identity
        rt.alpha.fill_(0.5)
        rt.query.weight.zero_()                                              # uniform attention: + α · mean of the tokens
        assert torch.allclose(rt(x), x + 0.5 * x.mean(1, keepdim=True), atol=1e-6)
        torch.nn.init.normal_(rt.query.weight), torch.nn.init.normal_(rt.key.weight)
        assert torch.allclose(rt(x[:, perm]), rt(x)[:, perm], atol=1e-5)
    assert sum(p.numel() for p in rt.parameters()) == 2 * (24 * 256 + 256) + 1   # query, key, gate; no value projection


def _rel_gap(a, b): return ((a - b).abs().max() / a.abs().max()).item()


def test_whole_video_encoder_frame_order():
    "Released form and frame averaging give the same tokens for a clip and its reverse; ours (frame positions) does not."
    mp = MotionPairs(2, image_size=64, clip_len=4)
    fwd = torch.stack([mp[0]["frames"], mp[2]["frames"]])                    # (2, T, 3, 64, 64) clips that move
    bwd = torch.stack([mp[1]["frames"], mp[3]["frames"]])
    assert torch.equal(bwd, fwd.flip(1))
    gaps = {}
    for name, kind, zero_time in [("ours", "ours", False), ("ours e=0", "ours", True), ("released", "released", False),
                                  ("mean", "mean", False)]:
        torch.manual_seed(0)
        enc = FrozenMobileNet(7, pretrained=False, temporal_at=(3, -1), max_frames=4, temporal=kind).eval()
        tf = TomeFormer(enc.out_dim, 65, d_model=64, n_heads=4, d_ff=128, n_layers=3, r=16).eval()
        with torch.no_grad():
            for t in enc.temporal.values():                                  # open the gates (α = 0: all are averaging)
                t.alpha.fill_(1.0)
                if kind == "released": torch.nn.init.normal_(t.query.weight), torch.nn.init.normal_(t.key.weight)
                if zero_time: t.time.zero_()
            gaps[name] = (_rel_gap(enc(fwd), enc(bwd)), _rel_gap(tf(enc(fwd))[0], tf(enc(bwd))[0]))
    for name in ("released", "mean", "ours e=0"): assert max(gaps[name]) < 1e-5, (name, gaps[name])
    assert min(gaps["ours"]) > 1e-4, gaps["ours"]


def test_motion_pairs():
    mp = MotionPairs(5, image_size=64, clip_len=4, seed=3)
    assert len(mp) == 10
    for p in range(5):
        f, b = mp[2 * p], mp[2 * p + 1]
        assert torch.equal(b["frames"], f["frames"].flip(0)) and not torch.equal(f["frames"][0], f["frames"][-1])
        assert f["direction"] in ("left", "right", "up", "down") and b["direction"] == REVERSED_MOTION[f["direction"]]
        assert (f["reversed"], b["reversed"]) == (False, True)
        assert [reverse_caption(c) for c in f["captions"]] == b["captions"] != f["captions"]
        assert motion_accuracy(b["captions"], [b["clip"]] * 3)["motion_acc"] == 1.0
        assert motion_accuracy(b["captions"], [f["clip"]] * 3)["motion_acc"] == 0.0
    with pytest.raises(IndexError): mp[10]


def test_motion_choice_accuracy_is_chance_without_frame_order():
    "On MotionPairs the released form and frame averaging score exactly 0.5 by likelihood; ours tells a clip from its reverse."
    from vlp_edu.simvlg import SimVLG, load_frozen_llm, caption_nll, motion_choice_accuracy
    cfg = SimVLGConfig(image_size=64, r=16, n_frames=4, temporal_at=(-1,))
    llm, tok = load_frozen_llm(cfg.llm_layers)
    mp = MotionPairs(4, image_size=64, clip_len=4, split="val")
    clips = torch.stack([mp[i]["frames"] for i in range(2)])                    # (2, T, 3, 64, 64) a clip, its reverse
    caps = [mp[0]["captions"][0], reverse_caption(mp[0]["captions"][0])]       # its caption and the reversed one
    for kind in ("mean", "released", "ours"):
        torch.manual_seed(0)
        m = SimVLG(cfg.replace(temporal=kind), llm, tok).eval()
        with torch.no_grad():
            for t in m.encoder.temporal.values():                            # open the gates, strong frame positions
                t.alpha.fill_(1.0)
                if kind == "ours": t.time.normal_()
        res = motion_choice_accuracy(m, mp, n=len(mp))
        nll = torch.stack([caption_nll(m, clips, [c, c]) for c in caps])      # (caption, clip)
        assert res["n_choices"] == 8 and nll.min() > 0
        if kind == "ours": assert (nll[:, 0] - nll[:, 1]).abs().max() > 1e-3, nll
        else:                                                                 # same tokens for a clip and its reverse
            assert res["choice_acc"] == 0.5, (kind, res)
            torch.testing.assert_close(nll[:, 0], nll[:, 1], rtol=1e-4, atol=1e-4)
