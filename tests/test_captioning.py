"Fast checks of vlp_edu.captioning (the notebook nbs/10_captioning.ipynb holds the full tests)."
import torch
import pytest
from vlp_edu.captioning import CaptionDecoder, caption_vocab, caption_loss, greedy_decode, beam_search, caption_metrics

torch.set_num_threads(1)

def _dec(**kw):
    torch.manual_seed(0)
    return CaptionDecoder(d_model=32, n_heads=4, d_ff=64, n_layers=2, max_len=10, **kw).eval()

def test_beam1_is_greedy_and_memory_padding():
    dec = _dec(vocab_subset=torch.tensor([1037, 2417, 4418, 2675]))
    mem, mask = torch.randn(4, 5, 32), torch.ones(4, 5)
    mask[1:, 3:] = 0
    g = greedy_decode(dec, mem, mask)
    assert torch.equal(beam_search(dec, mem, mask, beam_size=1), g)
    padded = torch.cat([mem[1:2, :3], 5 * torch.randn(1, 4, 32)], 1)
    pmask = torch.tensor([[1, 1, 1, 0, 0, 0, 0]])
    x = g[1:2]
    torch.testing.assert_close(dec(x, padded, pmask), dec(x, mem[1:2, :3]), atol=1e-5, rtol=0)

def test_causal_and_loss_and_vocab():
    ids = torch.tensor([[101, 1037, 2417, 4418, 102, 0], [101, 1037, 2675, 102, 0, 0]])
    am = (ids != 0).long()
    dec = _dec(vocab_subset=caption_vocab(ids))
    assert torch.equal(dec.to_full(dec.to_local(ids)), ids)
    mem = torch.randn(2, 3, 32)
    x2 = ids.clone(); x2[:, 3] = 1037
    torch.testing.assert_close(dec(ids, mem)[:, :3], dec(x2, mem)[:, :3], atol=1e-6, rtol=0)
    loss, acc = caption_loss(dec, mem, None, ids, am)
    assert loss.item() == pytest.approx(torch.log(torch.tensor(float(dec.n_out))).item(), abs=0.3) and 0 <= acc <= 1
    with pytest.raises(ValueError, match="caption_vocab"): dec.to_local(torch.tensor([[101, 9546]]))

def test_metrics():
    refs = {0: ["a red circle left of a blue square"], 1: ["a green triangle above a yellow diamond"]}
    m = caption_metrics({i: r[0] for i, r in refs.items()}, refs)
    assert m["bleu4"] == pytest.approx(1.0, abs=1e-6) and m["cider"] > 0
    assert caption_metrics({0: refs[0][0]}, {0: refs[0]})["cider"] == 0.0   # one image: every IDF is 0
    with pytest.raises(ValueError, match="no reference"): caption_metrics({5: "x"}, refs)
