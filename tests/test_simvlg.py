"Fast checks of vlp_edu.simvlg that need no LLM: configs, TomeFormer merging, the frozen encoder, the temporal gate."
import json
import torch
from vlp_edu.data import ShapesWorldClips
from vlp_edu.simvlg import (SimVLGConfig, TomeFormer, FrozenMobileNet, TemporalAttention, mobilenet_grid,
                            llm_layer_indices, motion_accuracy)


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
