"Fast checks of the model modules (encoders, fusion, objectives) outside the notebooks."
import pytest, torch
import torch.nn.functional as F
from vlp_edu.core import tiny, seed_everything
from vlp_edu.encoders import ViTPatchEncoder, MultiHeadAttention, sine_pos_2d
from vlp_edu.fusion import FusionTransformer, AttentionRecorder, TransformerLayer
from vlp_edu.pixel_vlp import PixelVLP
from vlp_edu.objectives import itm_pairs, itc_loss
from vlp_edu.text import get_tokenizer, tokenize

CAPS = ["a small red circle", "a large blue square left of a green triangle", "two yellow diamonds", "a cyan circle"]

def _batch(cfg, B=4):
    ids, mask = tokenize(get_tokenizer(), CAPS[:B], cfg.max_text_len)
    return {"images": torch.rand(B, 3, cfg.image_size, cfg.image_size), "input_ids": ids, "attention_mask": mask}

def test_vit_shapes_and_positions():
    cfg = tiny().model
    assert ViTPatchEncoder(cfg)(torch.rand(2, 3, 48, 48)).shape == (2, 37, cfg.d_model)
    assert sine_pos_2d(3, 4, 16).shape == (12, 16)

def test_attention_masks():
    att = MultiHeadAttention(16, 2).eval()
    x = torch.randn(1, 4, 16); x2 = x.clone(); x2[0, 3] = 9.0
    assert torch.allclose(att(x, causal=True)[0, :3], att(x2, causal=True)[0, :3], atol=1e-5)

def test_recorder_rows_and_padding():
    cfg = tiny().model
    b = _batch(cfg)
    fus = FusionTransformer(cfg).eval()
    with AttentionRecorder(fus) as rec: fus(b["input_ids"], b["attention_mask"])
    assert len(rec.attentions) == cfg.n_layers
    a = rec.attentions[0]
    assert torch.allclose(a.sum(-1), torch.ones_like(a.sum(-1)), atol=1e-5)
    assert (a.transpose(1, 3)[b["attention_mask"] == 0] == 0).all()

def test_itm_pairs_never_positive():
    same = torch.eye(6, dtype=torch.bool)
    for _ in range(50):
        i, t, y = itm_pairs(torch.randn(6, 6), same)
        assert torch.equal(same[i, t], y.bool()) and y.sum() == 6

def test_itc_aligned_is_zero():
    e = torch.eye(4, 8)
    assert itc_loss(e, e, 0.05) < 1e-6

def test_pixelvlp_step_weights_and_roundtrip(tmp_path):
    seed_everything(0)
    p = tiny().replace(**{"model.loss_weights": {"itc": 1.0, "itm": 0.0, "mlm": 1.0}})
    m = PixelVLP(p)
    b = _batch(p.model)
    out = m(b); out["loss"].backward()
    assert "loss_itm" not in out and m.itm_head.weight.grad is None and torch.isfinite(out["loss"])
    m.save_pretrained(tmp_path)
    m2 = PixelVLP.from_pretrained(tmp_path)
    m.eval()
    with torch.no_grad():
        assert torch.equal(m.itm_logits(b["images"], b["input_ids"], b["attention_mask"]),
                           m2.itm_logits(b["images"], b["input_ids"], b["attention_mask"]))
    (tmp_path / "model.safetensors").write_bytes(b"junk")
    with pytest.raises(ValueError, match="corrupted"): PixelVLP.from_pretrained(tmp_path)

def test_cross_attention_layer():
    lay = TransformerLayer(16, 2, 32, cross=True).eval()
    assert lay(torch.randn(2, 3, 16), context=torch.randn(2, 5, 16)).shape == (2, 3, 16)
