"The vlp-data console script, run in a subprocess (with another PYTHONHASHSEED: items must not depend on it); from_config."
import json, os, shutil, subprocess, sys
from pathlib import Path

import pytest, torch
from vlp_edu.core import PRESETS
from vlp_edu.data import CocoDataset, ShapesWorld, ShapesWorldClips, VQAJsonl


def test_vlp_data_console_script(tmp_path):
    exe = shutil.which("vlp-data", path=str(Path(sys.executable).parent)) or shutil.which("vlp-data")
    assert exe, "vlp-data is not installed: pip install -e ."
    out = tmp_path / "sw"
    r = subprocess.run([exe, "--out", str(out), "--n-train", "5", "--n-val", "3", "--seed", "2", "--size", "40",
                        "--max-objects", "2"], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout.strip().splitlines()[-1])
    assert s["splits"]["train"]["n_images"] == 5 and s["splits"]["val"]["n_images"] == 3
    assert Path(s["splits"]["val"]["instances"]).is_file() and Path(s["images"]).is_dir()
    coco = CocoDataset(out / "images", out / "instances_train.json", out / "captions_train.json", image_size=40)
    vqa = VQAJsonl(out / "vqa_train.jsonl", out / "images", image_size=40)
    gen = ShapesWorld(5, seed=2, image_size=40, max_objects=2)
    for i in range(5):
        assert torch.equal(coco[i]["image"], gen[i]["image"]) and torch.equal(coco[i]["boxes"], gen[i]["boxes"])
        assert coco[i]["captions"] == gen[i]["captions"] and vqa[i]["qa"] == gen[i]["qa"]


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_from_config_is_the_long_form(preset):
    dc = PRESETS[preset]().data
    for split, off in (("train", 0), ("train", 1), ("val", 0)):
        n = dc.n_train if split == "train" else dc.n_val
        long = ShapesWorld(n, seed=dc.seed + off, image_size=dc.image_size, max_objects=dc.max_objects, split=split)
        short = ShapesWorld.from_config(dc, split, seed_offset=off)
        assert repr(short) == repr(long) and (len(short), short.n_captions) == (len(long), long.n_captions)
        assert short[0]["captions"] == long[0]["captions"]
        long = ShapesWorldClips(n, seed=dc.seed + off, image_size=dc.image_size, clip_len=dc.clip_len,
                                max_objects=dc.max_objects, split=split)
        short = ShapesWorldClips.from_config(dc, split, seed_offset=off)
        attrs = ("n", "seed", "image_size", "clip_len", "max_objects", "split", "n_captions")
        assert [getattr(short, a) for a in attrs] == [getattr(long, a) for a in attrs]
        assert short[0]["captions"] == long[0]["captions"]
    assert len(ShapesWorld.from_config(dc, "val", n=3)) == 3                  # overrides win
