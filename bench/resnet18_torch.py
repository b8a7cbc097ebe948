#!/usr/bin/python3
"""torchvision's resnet18 trained or run on synthetic data, the twin of graphs/resnet18.yaml.

Random weights (torchvision.models.resnet18(), no download), 224x224 RGB, 1000 classes,
SGD with momentum 0.9 (lr 0.1) and CrossEntropyLoss in training, as in the YAML. It measures
as `opgraph bench` does: two synthetic batches generated once and alternated, W untimed
warm-up steps, then N timed steps; max_rss_bytes is the process's peak RSS.

  /usr/bin/python3 bench/resnet18_torch.py --mode train --batch-size 32 --steps 5 --json

glibc malloc is tuned as in bench/mnist_torch.py (freed blocks kept for reuse, as PyTorch's
CPU guides advise); --glibc-malloc-defaults measures without that.
"""
import argparse
import json
import resource
import sys
import time

import torch
import torchvision

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from mnist_torch import tune_malloc  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=("train", "infer"), default="train")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--channels-last", action="store_true", help="NHWC memory format")
    ap.add_argument("--glibc-malloc-defaults", action="store_true")
    ap.add_argument("--json", action="store_true", help="print one JSON line")
    args = ap.parse_args()
    malloc_tuned = False if args.glibc_malloc_defaults else tune_malloc()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    model = torchvision.models.resnet18().to(memory_format=fmt)
    b = args.batch_size
    images = [torch.rand(b, 3, 224, 224).contiguous(memory_format=fmt) for _ in range(2)]
    labels = [torch.randint(0, 1000, (b,)) for _ in range(2)]
    if args.mode == "train":
        model.train()
        loss_fn = torch.nn.CrossEntropyLoss()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(i):
            opt.zero_grad(set_to_none=True)
            loss_fn(model(images[i % 2]), labels[i % 2]).backward()
            opt.step()
    else:
        model.eval()

        def step(i):
            with torch.inference_mode():
                torch.softmax(model(images[i % 2]), dim=1)
    for i in range(args.warmup):
        step(i)
    start = time.perf_counter()
    for i in range(args.steps):
        step(args.warmup + i)
    total = time.perf_counter() - start
    report = {
        "framework": "pytorch",
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
        "mode": args.mode,
        "batch_size": b,
        "steps": args.steps,
        "threads": torch.get_num_threads(),
        "images_per_second": b * args.steps / total,
        "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "params": sum(p.numel() for p in model.parameters()),
        "channels_last": args.channels_last,
        "malloc_tuned": malloc_tuned,
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(f"pytorch {torch.__version__} resnet18 {args.mode} batch {b}: "
              f"{report['images_per_second']:.1f} images/s, peak RSS "
              f"{report['max_rss_bytes'] / 2**20:.0f} MiB")


if __name__ == "__main__":
    sys.exit(main())
