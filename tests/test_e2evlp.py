"Fast checks of the E2E-VLP recipe and CLI contract, end to end on files a user could bring (nbs/11_e2evlp.ipynb has the full tests)."
import json, os, subprocess, sys
from pathlib import Path
import pytest
import torch
from vlp_edu.core import tiny, Preset
from vlp_edu.data import write_shapesworld, CocoDataset
from vlp_edu.e2evlp import E2EVLP, evaluate_caption, evaluate_detection, e2evlp_datasets
from vlp_edu.pixel_vlp import PixelVLP
from vlp_edu.recipes import finetune, evaluate, load_pretrained

torch.set_num_threads(1)
BIN = Path(sys.executable).parent
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}

def cli(*args):
    "Run a console script; it must succeed and end with a JSON line, which is returned."
    r = subprocess.run([str(BIN / args[0]), *map(str, args[1:])], capture_output=True, text=True, env=ENV, timeout=600)
    assert r.returncode == 0, f"{args[0]} failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return json.loads(r.stdout.strip().splitlines()[-1])

@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("e2e") / "sw"
    write_shapesworld(d, n_train=16, n_val=8, seed=0, image_size=48, max_objects=3)
    return d

@pytest.fixture(scope="module")
def run(data):
    "`vlp-pretrain --recipe e2evlp` on a vlp-data folder (COCO captions + instances), 2 steps."
    out = data.parent / "pre"
    m = cli("vlp-pretrain", "--recipe", "e2evlp", "--preset", "tiny", "--steps", 2, "--batch-size", 4, "--data", data,
            "--out", out, "--device", "cpu")
    return out, m

def test_recipe_contract(run):
    out, m = run
    assert m["recipe"] == "e2evlp" and m["steps"] == 2 and m["out"] == str(out)
    assert {"loss", "loss_mlm", "loss_itm", "loss_det", "loss_cap", "val_bleu4", "val_cider", "val_map_50", "val_map"} <= set(m)
    for f in ("config.json", "e2evlp.json", "model.safetensors", "metrics.jsonl", "checkpoints/step-0000002"): assert (out / f).exists()
    assert json.loads((out / "config.json").read_text())["model_type"] == "e2evlp"      # what load_pretrained dispatches on
    model = E2EVLP.from_pretrained(out)
    assert json.loads((out / "e2evlp.json").read_text())["caption_ids"] == model.decoder.out_ids.tolist()
    assert model.cfg.encoder == "cnn" and model.loss_weights()["det"] > 0 and model.loss_weights()["cap"] > 0
    assert type(load_pretrained(out)) is E2EVLP and type(model.to_pixelvlp()) is PixelVLP   # by model_type; a backbone

def test_reload_and_evaluate(run, data, tmp_path):
    out, _ = run
    model = E2EVLP.from_pretrained(out)
    val = CocoDataset(data / "images", instances_json=data / "instances_val.json", captions_json=data / "captions_val.json", image_size=48)
    imgs = torch.stack([val[i]["image"] for i in range(2)])
    model.save_pretrained(tmp_path / "copy")
    assert model.caption(imgs) == E2EVLP.from_pretrained(tmp_path / "copy").caption(imgs)
    assert set(evaluate_caption(model, val, n=4, beam_size=2)) == {"bleu4", "cider"}
    r = evaluate_detection(model, val, n=4)
    assert 0 <= r["map"] <= r["map_50"] <= 1

def test_finetune_and_eval(run, data, tmp_path):
    "vlp-finetune caption|detection|vqa and vlp-eval caption|detection|vqa from an E2E-VLP run (the functions behind the commands)."
    out, _ = run
    _, r = finetune("caption", out, tmp_path / "cap", train=data / "captions_train.json", val=data / "captions_val.json",
                    images=data / "images", steps=1, device="cpu", progress=False)
    assert r["task"] == "caption" and r["steps"] == 1 and {"bleu4", "cider"} <= set(r)
    assert E2EVLP.from_pretrained(tmp_path / "cap").cfg.loss_weights == {"cap": 1.0}
    r = evaluate("caption", tmp_path / "cap", data / "captions_val.json", data / "images", n=4)
    assert r["task"] == "caption" and r["n_images"] == 4 and r["bleu4"] >= 0 and r["cider"] >= 0
    _, r = finetune("detection", out, tmp_path / "det", train=data / "instances_train.json", images=data / "images", steps=1,
                    device="cpu", progress=False)                             # instances only: no captions needed
    assert r["task"] == "detection" and 0 <= r["map"] <= r["map_50"] <= 1
    r = evaluate("detection", tmp_path / "det", data / "instances_val.json", data / "images", n=4)
    assert r["task"] == "detection" and r["n_images"] == 4 and 0 <= r["map"] <= r["map_50"] <= 1
    _, r = finetune("vqa", out, tmp_path / "vqa", train=data / "vqa_train.jsonl", val=data / "vqa_val.jsonl", images=data / "images",
                    steps=1, device="cpu", progress=False)                  # VQA from an E2E-VLP backbone
    assert r["task"] == "vqa" and 0 <= r["acc_overall"] <= 1
    assert evaluate("vqa", tmp_path / "vqa", data / "vqa_val.jsonl", data / "images")["n_questions"] > 0

def test_errors(tmp_path):
    with pytest.raises(ValueError, match="e2evlp_preset"): E2EVLP(tiny(), pretrained=False)
    with pytest.raises(FileNotFoundError, match="e2evlp"): E2EVLP.from_pretrained(tmp_path)
    with pytest.raises(FileNotFoundError, match="vlp-pretrain"): evaluate("caption", tmp_path)
