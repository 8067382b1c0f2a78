"Two CPU processes (gloo) train with the Learner; ranks must end with identical weights and disjoint data shards."
import json, os, subprocess, sys
from pathlib import Path

def test_ddp_two_cpu_processes(tmp_path):
    worker = Path(__file__).with_name("ddp_worker.py")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", "29517", str(worker), str(tmp_path)]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    res = [json.loads((tmp_path / f"rank{i}.json").read_text()) for i in range(2)]
    assert all(x["world"] == 2 and x["backend"] == "gloo" for x in res)
    assert max(x["max_weight_diff"] for x in res) == 0.0          # ranks stay in sync
    assert not set(res[0]["seen"][:4]) & set(res[1]["seen"][:4])   # each rank saw its own half of the first global batch
    assert res[0]["losses"][-1] < res[0]["losses"][0]               # and training works
    assert (tmp_path / "run" / "model.safetensors").exists()
