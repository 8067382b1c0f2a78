"Fast checks of vlp_edu.visual_losses as exported (nbs/08_visual_losses.ipynb trains against the real teacher and has the full tests)."
import pytest
import torch
import torch.nn.functional as F
from vlp_edu.core import tiny
from vlp_edu.data import ShapesWorld, collate_pretrain
from vlp_edu.text import get_tokenizer
from vlp_edu.pixel_vlp import PixelVLP
from vlp_edu.teacher import RegionTeacher, teacher_config
from vlp_edu.region_cache import pad_regions
from vlp_edu.visual_losses import VisualLossVLP, roi_pool, kl_loss, feature_loss, VISUAL_LOSSES
from vlp_edu.recipes import pretrain_visual_losses

LW = {"mlm": 1.0, "itm": 1.0, "itc": 1.0, **{k: 1.0 for k in VISUAL_LOSSES}}


@pytest.fixture(scope="module")
def batch():
    items = [ShapesWorld(4, image_size=48, split="val")[i] for i in range(4)]
    b = collate_pretrain(items, get_tokenizer(), 24)
    b["regions"] = pad_regions([dict(boxes=it["boxes"], features=torch.rand(len(it["boxes"]), 1024),
                                     class_probs=F.one_hot(it["labels"], 4).float(), colour_probs=F.one_hot(it["colours"], 6).float(),
                                     size_probs=F.one_hot(it["sizes"], 2).float(), scores=torch.ones(len(it["boxes"])), labels=it["labels"])
                                for it in items], 5)
    return b


def test_pool_and_losses():
    g = torch.randn(1, 8, 6, 6)
    assert torch.allclose(roi_pool(g, torch.tensor([[8., 16., 24., 40.]]), torch.tensor([0]), 1 / 8), g[:, :, 2:5, 1:3].mean((-2, -1)), atol=1e-5)
    p = torch.softmax(torch.randn(5, 4), -1)
    assert kl_loss(p.log(), p) < 1e-6 < kl_loss(torch.zeros(5, 4), p)
    f = torch.rand(5, 32)
    assert feature_loss(2 * f, f) < 1e-6 < feature_loss(torch.randn(5, 32), f)


def test_forward_weights_and_pixel_checkpoint(batch, tmp_path):
    torch.manual_seed(0)
    m = VisualLossVLP(tiny().replace(**{"model.loss_weights": LW}))
    out = m(batch)
    assert all(f"loss_{k}" in out for k in VISUAL_LOSSES) and torch.allclose(out["loss"], sum(out[f"loss_{k}"] for k in LW))
    m.cfg.loss_weights = {**LW, "region_attr": 0.0}
    assert "loss_region_attr" not in m(batch)
    m.cfg.loss_weights = LW
    m.save_pretrained(tmp_path)
    px = PixelVLP.from_pretrained(tmp_path)
    m.eval()
    with torch.no_grad():
        assert torch.equal(px.itc_image(batch["images"]), m.itc_image(batch["images"]))
    back = VisualLossVLP.from_pretrained(tmp_path)
    assert all(torch.equal(a, b) for a, b in zip(back.state_dict().values(), m.state_dict().values()))
    with pytest.raises(ValueError, match="RegionCacheDataset"): m.train()({k: v for k, v in batch.items() if k != "regions"})


def test_on_the_fly_teacher_and_recipe(batch, tmp_path):
    torch.manual_seed(0)
    teacher = RegionTeacher(teacher_config("tiny"))
    m = VisualLossVLP(tiny().replace(**{"model.loss_weights": LW}), teacher=teacher, min_score=0.0)
    out = m({k: v for k, v in batch.items() if k != "regions"})          # regions from the teacher, now
    assert torch.isfinite(out["loss"]) and "teacher" not in dict(m.named_children())
    p = tiny().replace(**{"data.n_train": 16, "data.n_val": 8, "train.steps": 2, "train.batch_size": 8, "train.log_every": 1})
    _, met = pretrain_visual_losses(p, tmp_path / "run", teacher=teacher, min_score=0.0, cache_root=tmp_path / "rc", progress=False)
    assert met["steps"] == 2 and all(f"loss_{k}" in met for k in VISUAL_LOSSES)
    assert type(PixelVLP.from_pretrained(tmp_path / "run")) is PixelVLP
