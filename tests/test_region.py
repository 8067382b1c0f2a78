"Fast checks of vlp_edu.region as exported (the notebook nbs/07_region_teacher.ipynb trains the teacher and has the full tests)."
import json
import pytest
import torch
from vlp_edu.data import ShapesWorld
from vlp_edu.region import (RegionTeacher, TeacherConfig, teacher_config, collate_regions, cache_regions, load_region_cache,
                            teacher_preset)


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    ds = ShapesWorld(6, image_size=48, split="val")
    return RegionTeacher(teacher_config("tiny")), ds


def test_losses_and_step(setup):
    teacher, ds = setup
    teacher.train()
    out = teacher(collate_regions([ds[i] for i in range(3)]))
    assert set(out) == {"loss", "loss_classifier", "loss_box_reg", "loss_objectness", "loss_rpn_box_reg", "loss_attr"}
    assert torch.allclose(out["loss"], sum(v for k, v in out.items() if k != "loss")) and torch.isfinite(out["loss"])
    teacher.eval()


def test_extract_contract(setup):
    teacher, ds = setup
    images = torch.stack([ds[i]["image"] for i in range(3)])
    regs = teacher.extract(images, top_k=5, min_score=0.0)
    assert len(regs) == 3
    for r in regs:
        k = len(r["boxes"])
        assert k <= 5 and r["features"].shape == (k, 1024) and r["class_probs"].shape == (k, 4)
        for key, n in (("class_probs", 4), ("colour_probs", 6), ("size_probs", 2)):
            assert r[key].shape == (k, n) and torch.allclose(r[key].sum(-1), torch.ones(k), atol=1e-5)
        assert (r["boxes"] >= 0).all() and (r["boxes"] <= 48).all()


def test_cache_round_trip_and_errors(setup, tmp_path):
    teacher, ds = setup
    p = cache_regions(teacher, ds, tmp_path / "r.safetensors", top_k=4, min_score=0.0, batch_size=3, progress=False)
    c = load_region_cache(p)
    ref = [r for s in (0, 3) for r in teacher.extract(torch.stack([ds[i]["image"] for i in range(s, s + 3)]), top_k=4, min_score=0.0)]
    for i, r in enumerate(ref):
        k = len(r["boxes"])
        assert int(c["mask"][i].sum()) == k
        for key in ("boxes", "features", "class_probs", "colour_probs", "size_probs", "scores", "labels"):
            assert torch.equal(c[key][i, :k], r[key])
    (tmp_path / "bad.safetensors").write_bytes(p.read_bytes()[:200])
    with pytest.raises(ValueError, match="cache_regions"): load_region_cache(tmp_path / "bad.safetensors")
    with pytest.raises(FileNotFoundError): load_region_cache(tmp_path / "none.safetensors")


def test_save_load_and_scale(setup, tmp_path):
    teacher, ds = setup
    teacher.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["teacher"]["min_size"] == 128
    t2 = RegionTeacher.from_pretrained(tmp_path)
    im = ds[0]["image"][None]
    a, b = teacher.detect(im)[0], t2.detect(im)[0]
    assert all(torch.equal(a[k], b[k]) for k in a)
    t2.set_min_size(256)
    assert t2.cfg.anchor_sizes == (46, 82) and t2.encode(im)[1]["0"].shape[-1] == 16
    assert teacher_preset("tiny").train.steps == 80 and TeacherConfig().anchor_sizes == (23, 41)
