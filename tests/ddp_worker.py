"Run under torchrun --nproc_per_node 2: train a toy model with the Learner, then report each rank's weight checksum."
import json, sys
from pathlib import Path
import torch
from torch import nn
from vlp_edu.core import tiny
from vlp_edu.learner import Learner, Callback

class Data(torch.utils.data.Dataset):
    def __init__(self, n=64):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 8, generator=g); self.y = self.x.sum(1, keepdim=True) / 3
    def __len__(self): return len(self.x)
    def __getitem__(self, i): return {"x": self.x[i], "y": self.y[i], "i": i}

def collate(items): return {"x": torch.stack([b["x"] for b in items]), "y": torch.stack([b["y"] for b in items]),
                            "i": torch.tensor([b["i"] for b in items])}

class Model(nn.Module):
    def __init__(self): super().__init__(); self.net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    def forward(self, b):
        loss = nn.functional.mse_loss(self.net(b["x"]), b["y"]); return {"loss": loss}

class Seen(Callback):
    def __init__(self): self.idx = []
    def after_step(self, learn): pass

if __name__ == "__main__":
    out = Path(sys.argv[1])
    torch.manual_seed(0)   # same init on every rank (DDP also broadcasts rank 0's weights)
    p = tiny().replace(**{"train.steps": 20, "train.batch_size": 8, "train.lr": 1e-2, "train.log_every": 5})
    model = Model()
    seen = []
    orig = model.forward
    def fwd(b): seen.extend(b["i"].tolist()); return orig(b)
    model.forward = fwd
    learn = Learner(model, Data(), collate, p, out_dir=out / "run", device="cpu").fit(progress=False)
    a = learn.accelerator
    flat = torch.cat([q.detach().flatten() for q in learn.unwrapped.parameters()])
    gathered = a.gather(flat[None])
    res = {"rank": a.process_index, "world": a.num_processes, "backend": str(torch.distributed.get_backend()) if a.num_processes > 1 else None,
           "max_weight_diff": float((gathered - gathered[0]).abs().max()), "seen": seen[:8],
           "losses": [h["loss"] for h in learn.history]}
    (out / f"rank{a.process_index}.json").write_text(json.dumps(res))
    a.wait_for_everyone()
    if torch.distributed.is_initialized(): torch.distributed.destroy_process_group()   # a clean gloo shutdown: without it a rank
                                                                                        # can abort at exit ("terminate called without an active exception")
