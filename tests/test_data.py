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


def _vlp_data(*args):
    exe = shutil.which("vlp-data", path=str(Path(sys.executable).parent)) or shutil.which("vlp-data")
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=120)

def test_vlp_data_refuses_a_non_empty_out_and_overwrite_replaces_it(tmp_path):
    out = tmp_path / "sw"
    assert _vlp_data("--out", out, "--n-train", 3, "--n-val", 1, "--size", 32).returncode == 0
    (out / "stray.txt").write_text("from the old set")
    r = _vlp_data("--out", out, "--n-train", 2, "--n-val", 1, "--size", 32)
    assert r.returncode == 2 and "not empty" in r.stderr and "Traceback" not in r.stderr
    assert len(list((out / "images/train").iterdir())) == 3                    # untouched
    r = _vlp_data("--out", out, "--n-train", 2, "--n-val", 1, "--size", 32, "--overwrite")
    assert r.returncode == 0, r.stderr
    assert not (out / "stray.txt").exists() and len(list((out / "images/train").iterdir())) == 2   # nothing old left
    assert [p.name for p in tmp_path.iterdir()] == ["sw"]                       # no temporary folder left
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _vlp_data("--out", empty, "--n-train", 1, "--n-val", 1, "--size", 32).returncode == 0   # an empty folder is fine

def test_write_shapesworld_failure_part_way_keeps_the_old_set(tmp_path, monkeypatch):
    import vlp_edu.data as data
    out = tmp_path / "sw"
    data.write_shapesworld(out, n_train=3, n_val=2, image_size=32)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    real = data._write_split
    def fail_in_val(tmp, o, split, *a):
        if split == "val": raise OSError(28, "No space left on device (injected)")
        return real(tmp, o, split, *a)
    monkeypatch.setattr(data, "_write_split", fail_in_val)
    with pytest.raises(OSError, match="injected"): data.write_shapesworld(out, n_train=4, n_val=2, image_size=32, overwrite=True)
    with pytest.raises(OSError, match="injected"): data.write_shapesworld(tmp_path / "new", n_train=4, n_val=2, image_size=32)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["sw"]                       # neither a temp folder nor "new"

def test_readers_name_the_file_and_line(tmp_path):
    out = tmp_path / "sw"
    from vlp_edu.data import write_shapesworld
    write_shapesworld(out, n_train=2, n_val=1, image_size=32)
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(ValueError, match=r"empty\.jsonl: the dataset is empty"): VQAJsonl(tmp_path / "empty.jsonl", out / "images")
    lines = (out / "vqa_train.jsonl").read_bytes().splitlines()
    (tmp_path / "latin1.jsonl").write_bytes(b"\n".join([lines[0], lines[1].replace(b'"question": "', b'"question": "\xe9')]))
    with pytest.raises(ValueError, match=r"latin1\.jsonl: line 2, column \d+: byte 0xe9 is not UTF-8"):
        VQAJsonl(tmp_path / "latin1.jsonl", out / "images")
