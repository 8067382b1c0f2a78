"Fast checks of vlp_edu.detection as exported (the notebook nbs/09_detection.ipynb has the full tests)."
import itertools, math
import torch
from vlp_edu.detection import (HungarianMatcher, SetCriterion, DETRDecoder, DecoderAttnRecorder, post_process,
                                to_detr_targets)


def _target(n, g):
    return dict(labels=torch.randint(0, 4, (n,), generator=g),
                boxes=torch.cat([0.2 + 0.6 * torch.rand(n, 2, generator=g),
                                 0.05 + 0.3 * torch.rand(n, 2, generator=g)], -1),
                attrs={"colour": torch.randint(0, 6, (n,), generator=g),
                       "size": torch.randint(0, 2, (n,), generator=g)})


def test_matcher_is_optimal():
    g, m = torch.Generator().manual_seed(0), HungarianMatcher()
    for _ in range(5):
        ns = [3, 0, 2]
        out = dict(pred_logits=torch.randn(3, 4, 5, generator=g), pred_boxes=_target(12, g)["boxes"].view(3, 4, 4),
                   pred_attrs={"colour": torch.randn(3, 4, 6, generator=g), "size": torch.randn(3, 4, 2, generator=g)})
        tgts = [_target(n, g) for n in ns]
        for i, (pi, ti) in enumerate(m(out, tgts)):
            c = m.cost_matrix(out, tgts).split(ns, -1)[i][i]
            best = min((sum(c[p[k], k].item() for k in range(ns[i])) for p in itertools.permutations(range(4), ns[i])),
                       default=0.0)
            assert pi.dtype == torch.int64 and math.isclose(c[pi, ti].sum().item(), best, abs_tol=1e-5)


def test_decoder_criterion_and_post_process():
    torch.manual_seed(0)
    dec = DETRDecoder(d_model=32, n_heads=4, d_ff=64, n_layers=2, n_queries=5, num_classes=4).eval()
    mem, pad = torch.randn(2, 9, 32), torch.zeros(2, 9, dtype=torch.bool)
    pad[0, 6:] = True
    out = dec(mem, pad, torch.randn(9, 32))
    assert out["pred_logits"].shape == (2, 5, 5) and len(out["aux_outputs"]) == 1
    with DecoderAttnRecorder(dec) as rec:
        dec(mem, pad)
    assert len(rec.attentions) == 2 and (rec.attentions[0][0, ..., 6:] == 0).all()
    tg = to_detr_targets([dict(boxes=torch.tensor([[8., 8, 24, 40]]), labels=torch.tensor([1]),
                               colours=torch.tensor([2]), sizes=torch.tensor([0]))] * 2, 64)
    losses = SetCriterion(4)(out, tg)
    assert torch.isfinite(losses["loss"]) and losses["loss"] > 0
    det = post_process(out, 64, threshold=0.0)
    assert det[0]["boxes"].shape == (5, 4) and det[0]["attrs"]["colour"].shape == (5,)
