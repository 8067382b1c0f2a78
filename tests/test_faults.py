"No training lost: Ctrl-C saves and resumes exactly, a kill during a save keeps the previous checkpoint, a resume of another run is refused."
import os, signal, subprocess, sys, textwrap, time
from pathlib import Path
import torch
from safetensors.torch import load_file

BIN = Path(sys.executable).parent
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}

def pretrain(out, *extra):
    "The command under test: a tiny run of 6 steps with a checkpoint after every step."
    return [str(BIN / "vlp-pretrain"), "--preset", "tiny", "--steps", "6", "--batch-size", "4", "--ckpt-every", "1",
            "--device", "cpu", "--out", str(out), *extra]

def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=600)

def test_sigint_then_resume_equals_one_run(tmp_path):
    one, cut = tmp_path / "one", tmp_path / "cut"
    r = run(pretrain(one))
    assert r.returncode == 0, r.stderr[-2000:]
    p = subprocess.Popen(pretrain(cut), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    t0 = time.time()
    while not list((cut / "checkpoints").glob("step-*")) and p.poll() is None and time.time() - t0 < 300:
        time.sleep(0.02)
    p.send_signal(signal.SIGINT)                                  # as Ctrl-C in the terminal
    out, err = p.communicate(timeout=300)
    assert p.returncode == 130, err[-2000:]
    assert "interrupted at step" in err and "--resume" in err and "Traceback" not in err
    assert not (cut / "model.safetensors").exists()               # stopped before the end ...
    steps = sorted(d.name for d in (cut / "checkpoints").glob("step-*"))
    assert steps and steps[-1] < "step-0000006"                   # ... with the checkpoint of the step it was in
    r = run(pretrain(cut, "--seed", "1", "--resume"))              # another run's settings: refused, nothing trained
    assert r.returncode == 2 and "train.seed: 0 in the checkpoint, 1 now" in r.stderr, r.stderr[-2000:]
    r = run(pretrain(cut, "--resume"))
    assert r.returncode == 0, r.stderr[-2000:]
    a, b = load_file(one / "model.safetensors"), load_file(cut / "model.safetensors")
    # the uninterrupted run's weights up to float rounding: across processes the CPU kernels may round differently
    # (06_learner, "Same run, same weights?"); a resume that lost or repeated a step differs by far more (~1e-3)
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], rtol=0, atol=1e-5) for k in a)

KILLED_SAVE = textwrap.dedent("""
    import os, signal, sys, torch
    from torch import nn
    import vlp_edu.learner as L
    run, lin = sys.argv[1], nn.Linear(4, 4)
    L.write_checkpoint(run, 1, lin, {"step": 1})
    def dying_save(obj, f):                    # half of the file, then kill -9
        with open(f, "wb") as fh: fh.write(b"PK" + b"0" * 100)
        os.kill(os.getpid(), signal.SIGKILL)
    L.torch.save = dying_save
    L.write_checkpoint(run, 2, lin, {"step": 2})
""")

def test_kill_during_save_keeps_the_previous_checkpoint(tmp_path):
    from vlp_edu.learner import latest_checkpoint, load_training_state, write_checkpoint, list_checkpoints
    r = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(tmp_path)], env=ENV, capture_output=True, timeout=300)
    assert r.returncode == -signal.SIGKILL, r.stderr[-2000:]
    assert (tmp_path / "checkpoints" / ".tmp-step-0000002" / "training_state.pt").exists()   # the half-written save
    ck = latest_checkpoint(tmp_path)
    assert ck.name == "step-0000001" and load_training_state(ck)["step"] == 1
    write_checkpoint(tmp_path, 2, torch.nn.Linear(4, 4), {"step": 2})
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-0000001", "step-0000002"]
    assert sorted(os.listdir(tmp_path / "checkpoints")) == ["step-0000001", "step-0000002"]  # the leftover is gone

def test_two_damaged_images_are_named_skipped_and_training_finishes(tmp_path):
    data, out = tmp_path / "data", tmp_path / "run"
    r = run([str(BIN / "vlp-data"), "--out", str(data), "--n-train", "16", "--n-val", "4", "--size", "64"])
    assert r.returncode == 0, r.stderr[-2000:]
    garbage, cut = data / "images/train/000003.png", data / "images/train/000011.png"
    garbage.write_bytes(b"this is not a png")                     # not an image at all
    cut.write_bytes(cut.read_bytes()[:200])                        # a download cut short
    r = run(pretrain(out, "--data", str(data), "--overwrite"))
    assert r.returncode == 0, r.stderr[-2000:]
    assert "2 of 16 images of the training set cannot be read" in r.stderr, r.stderr[-2000:]
    for f, rec in ((garbage, "images[3]"), (cut, "images[11]")): assert str(f) in r.stderr and rec in r.stderr
    assert (out / "model.safetensors").exists() and "Traceback" not in r.stderr
