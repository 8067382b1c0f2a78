"""Latency of every api_name of the app (median of N sequential calls over loopback) and the time to answer 20 concurrent
requests. Usage: `python gradio_app/measure.py [ROOT] [--n 20]`; the last stdout line is JSON."""
from __future__ import annotations
import argparse, json, os, socket, statistics, time
import torch
from gradio_client import Client, handle_file
from vlp_edu.demo import build_demo, EXAMPLES

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root", nargs="?", default="runs/demo")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--concurrent", type=int, default=20)
    a = ap.parse_args()
    with socket.socket() as s: s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    demo = build_demo(a.root)
    demo.queue(default_concurrency_limit=4).launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    c = Client(f"http://127.0.0.1:{port}/", verbose=False)
    img = handle_file(str(sorted(EXAMPLES.glob("*.png"))[0]))
    calls = {"vqa": (img, "what colour is the circle?"), "itm": (img, "a red circle"), "attention": (img, "a red circle", "2: red", 0, -1),
             "new_scene": (), "compare": (img, "how many objects are there?"), "teacher": (img, 0.2), "detect": (img, 0.5),
             "caption": (img, 1), "query_attention": (img, -1, -1), "simvlg_caption": (img, 24), "merge_groups": (img, 2),
             "video": (3,)}
    res = {"root": str(a.root), "n": a.n, "threads": torch.get_num_threads(), "cpus": os.cpu_count(),
           "load_avg_start": round(os.getloadavg()[0], 2)}
    for name, args in calls.items():
        try: c.predict(*args, api_name=f"/{name}")                     # first call: loads the checkpoint
        except Exception as e: res[f"ms_{name}"] = f"error: {str(e)[:120]}"; continue
        ts = []
        for _ in range(a.n):
            t = time.perf_counter(); c.predict(*args, api_name=f"/{name}"); ts.append(time.perf_counter() - t)
        res[f"ms_{name}"] = round(1000 * statistics.median(ts), 1)
        print(name, res[f"ms_{name}"], "ms", flush=True)
    qs = ["what colour is the circle?", "how many objects are there?", "is there a blue square?", "what shape is the red object?"]
    t = time.perf_counter()
    jobs = [c.submit(img, qs[i % 4], api_name="/vqa") for i in range(a.concurrent)]
    out = [j.result(timeout=600) for j in jobs]
    res.update(concurrent_requests=a.concurrent, concurrent_answered=sum(o is not None and bool(o[0]) for o in out),
               concurrent_wall_s=round(time.perf_counter() - t, 2), load_avg_end=round(os.getloadavg()[0], 2))
    demo.close()
    print(json.dumps(res))

if __name__ == "__main__":
    main()
