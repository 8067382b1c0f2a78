"""vlp_edu's Gradio app, launched: what a Hugging Face Space runs (`python app.py`). The app itself is the package module
`vlp_edu.demo` (chapter `nbs/18_demo.ipynb`); `vlp-demo` (`make demo`) launches the same `build_demo`, and trains the
demo checkpoints first when they are missing.

Usage: `python gradio_app/app.py [ROOT]` (default `runs/demo`) serves on 127.0.0.1:7860; on a Space (SPACE_ID set) it
serves on Gradio's defaults, which the Space sets (0.0.0.0:7860)."""
import os, sys
from vlp_edu.demo import build_demo

def main(root: str = "runs/demo"):
    "Build the app over the checkpoints in `root` and serve it with 4 handlers at once, the rest queued."
    demo = build_demo(root)
    where = {} if os.environ.get("SPACE_ID") else {"server_name": "127.0.0.1", "server_port": 7860}
    demo.queue(default_concurrency_limit=4, max_size=256).launch(**where)
    return demo

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/demo")
