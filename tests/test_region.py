"""Fast checks of vlp_edu.teacher, region_cache and region_vlp as exported (nbs/07_region_teacher.ipynb trains the teacher;
it, 07a_region_cache and 07b_region_vlp have the full tests)."""
import json
import pytest
import torch
from vlp_edu.data import ShapesWorld
from vlp_edu.teacher import RegionTeacher, TeacherConfig, teacher_config, collate_regions, teacher_preset
from vlp_edu.region_cache import cache_regions, load_region_cache


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
    assert teacher_preset("tiny").train.steps == 60 and TeacherConfig().anchor_sizes == (23, 41)


# ---- the region VLP baseline (RegionVLP, region cache wrapper, recipe, inference bench), with an untrained teacher ----
def test_region_vlp_recipe_and_reload(setup, tmp_path):
    from vlp_edu.core import tiny
    from vlp_edu.region_vlp import RegionVLP
    from vlp_edu.region_cache import region_cache_for, RegionCacheDataset
    from vlp_edu.recipes import pretrain_region
    from vlp_edu.pixel_vlp import PixelVLP
    teacher, _ = setup
    p = tiny().replace(**{"data.n_train": 16, "data.n_val": 8, "train.steps": 2, "train.batch_size": 8, "train.log_every": 1})
    m, met = pretrain_region(p, tmp_path / "run", teacher=teacher, min_score=0.0, cache_root=tmp_path / "rc", progress=False)
    assert met["steps"] == 2 and met["recipe"] == "region" and met["loss"] > 0
    r = RegionVLP.from_pretrained(tmp_path / "run")
    im = torch.stack([ShapesWorld(2, image_size=48)[i]["image"] for i in range(2)])
    ids, mask = torch.tensor([[101, 2417, 102], [101, 2630, 102]]), torch.ones(2, 3, dtype=torch.long)
    with torch.no_grad():
        tok = r.encode_image(im)
        assert tok.shape == (2, 11, 128) and torch.equal(r.itm_logits(im, ids, mask), m.eval().itm_logits(im, ids, mask))
    with pytest.raises(ValueError, match="does not fit"): PixelVLP.from_pretrained(tmp_path / "run")
    with pytest.raises(ValueError, match="no rows|written for"):
        RegionCacheDataset(ShapesWorld(40, image_size=48), region_cache_for(teacher, ShapesWorld(16, image_size=48), min_score=0.0,
                                                                            root=tmp_path / "rc", progress=False))


def test_bench_inference_contract(tmp_path):
    from vlp_edu.bench import bench_inference
    res = bench_inference("tiny", repeats=1, batch_sizes=(1, 2), warmup=0, native_size=160, teacher_root=tmp_path)
    assert res["teacher"].startswith("untrained") and res["native_res"] == 160 and res["same_res"] == 48
    for k in ("speedup_same_res", "speedup_native_res", "speedup_same_res_b2", "ms_pixel_b1", "ms_region_native_b2"):
        assert res[k] > 0, k
    with pytest.raises(ValueError, match="include 1"): bench_inference("tiny", batch_sizes=(2,))


# ---- the command line on region checkpoints: vlp-pretrain --recipe region -> vlp-finetune vqa -> vlp-eval; vlp-bench inference ----
import os, subprocess, sys
from pathlib import Path

BIN = Path(sys.executable).parent


def cli(*args, env=None):
    "Run a console script; assert it succeeded; its last stdout line as JSON."
    r = subprocess.run([str(BIN / args[0]), *map(str, args[1:])], capture_output=True, text=True, timeout=900,
                       env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1", **(env or {})})
    assert r.returncode == 0, f"{args[0]} failed:\n{r.stdout[-1500:]}\n{r.stderr[-3000:]}"
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def cli_setup(tmp_path_factory):
    "A small vlp-data folder, and a cache dir whose tiny teacher (untrained: this tests plumbing) the recipes find."
    from vlp_edu.teacher import teacher_dir, has_teacher
    root = tmp_path_factory.mktemp("cli")
    cli("vlp-data", "--out", root / "sw", "--n-train", 16, "--n-val", 8, "--size", 48)
    torch.manual_seed(0)
    t = RegionTeacher(teacher_config("tiny"))
    t.preset = teacher_preset("tiny")
    t.save_pretrained(teacher_dir("tiny", root / "cache" / "region_teacher"))
    assert has_teacher("tiny", root / "cache" / "region_teacher")
    return root


def pretrain_finetune_eval(recipe: str, root: Path, tmp_path: Path) -> tuple[dict, dict, dict]:
    "The README's three commands on a recipe, tiny and a few steps, on vlp-data files."
    env, sw = {"VLP_EDU_CACHE": str(root / "cache")}, root / "sw"
    pre, ft = tmp_path / "pre", tmp_path / "vqa"
    m1 = cli("vlp-pretrain", "--recipe", recipe, "--preset", "tiny", "--steps", 2, "--batch-size", 8, "--data", sw, "--out", pre,
             "--device", "cpu", env=env)
    m2 = cli("vlp-finetune", "vqa", "--init", pre, "--train", sw / "vqa_train.jsonl", "--val", sw / "vqa_val.jsonl",
             "--images", sw / "images", "--steps", 2, "--out", ft, "--device", "cpu", env=env)
    m3 = cli("vlp-eval", "vqa", "--ckpt", ft, "--data", sw / "vqa_val.jsonl", "--images", sw / "images", env=env)
    return m1, m2, m3


@pytest.mark.slow
def test_cli_region_recipe_end_to_end(cli_setup, tmp_path):
    from vlp_edu.recipes import load_pretrained, load_backbone
    from vlp_edu.region_vlp import RegionVLP
    m1, m2, m3 = pretrain_finetune_eval("region", cli_setup, tmp_path)
    assert m1["recipe"] == "region" and m1["steps"] == 2 and m1["loss"] > 0
    assert json.loads((tmp_path / "pre" / "config.json").read_text())["model_type"] == "region_vlp"
    assert type(load_pretrained(tmp_path / "pre")) is RegionVLP and type(load_backbone(tmp_path / "pre")) is RegionVLP
    assert m2["task"] == "vqa" and m2["n_questions"] == m3["n_questions"] > 0 and m2["acc_overall"] == m3["acc_overall"]
    assert type(load_pretrained(tmp_path / "vqa").vlp) is RegionVLP        # the VQA run keeps its region backbone


@pytest.mark.slow
def test_cli_visual_losses_recipe_end_to_end(cli_setup, tmp_path):
    from vlp_edu.recipes import load_pretrained, load_backbone
    from vlp_edu.pixel_vlp import PixelVLP
    from vlp_edu.visual_losses import VisualLossVLP
    m1, m2, m3 = pretrain_finetune_eval("visual-losses", cli_setup, tmp_path)
    assert m1["recipe"] == "visual-losses" and m1["steps"] == 2 and all(f"loss_region_{k}" in m1 for k in ("feat", "cls", "attr"))
    assert json.loads((tmp_path / "pre" / "config.json").read_text())["model_type"] == "visual_loss_vlp"
    assert type(load_pretrained(tmp_path / "pre")) is VisualLossVLP
    assert type(load_backbone(tmp_path / "pre")) is PixelVLP                 # downstream: no heads, no detector
    assert m2["task"] == "vqa" and m2["n_questions"] == m3["n_questions"] > 0 and m2["acc_overall"] == m3["acc_overall"]


def test_load_pretrained_errors(tmp_path):
    from vlp_edu.recipes import load_pretrained
    with pytest.raises(FileNotFoundError, match="no run folder"): load_pretrained(tmp_path / "nowhere")
    (tmp_path / "x").mkdir()
    with pytest.raises(FileNotFoundError, match="config.json"): load_pretrained(tmp_path / "x")
    (tmp_path / "x" / "config.json").write_text('{"model_type": "martian"}')
    with pytest.raises(ValueError, match="martian"): load_pretrained(tmp_path / "x")


def test_bench_inference_cli_quick(cli_setup):
    res = cli("vlp-bench", "inference", "--quick", env={"VLP_EDU_CACHE": str(cli_setup / "cache")})
    assert res["bench"] == "inference" and res["quick"] and res["repeats"] == 1 and res["teacher"] == "trained"
    for k in ("speedup_same_res", "speedup_native_res", "speedup_same_res_b2", "speedup_native_res_b2"): assert res[k] > 0, k
