"Fast checks of vlp_edu.simvlg that need no LLM: configs, the TomeFormer's merging, the frozen encoder and the temporal gate."
import json
import torch
from vlp_edu.simvlg import SimVLGConfig, TomeFormer, FrozenMobileNet, TemporalAttention, mobilenet_grid


def test_presets_token_counts():
    assert SimVLGConfig.preset("tiny").tokens_per_layer() == [65, 49, 33, 17]
    assert SimVLGConfig.preset("small").tokens_per_layer()[-1] == 29 == SimVLGConfig.preset("base").tokens_per_layer()[-1]
    assert SimVLGConfig.preset("small").n_tokens == 257 == SimVLGConfig.preset("base").n_tokens
    c = SimVLGConfig(n_frames=4, temporal_at=(3, -1))
    assert SimVLGConfig.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    assert mobilenet_grid(64, 7) == 8 and mobilenet_grid(256, 14) == 16


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
    assert not any(p.requires_grad for p in enc.net.parameters()) and all(p.requires_grad for p in enc.temporal.parameters())
