#!/usr/bin/python3
"""torchvision's resnet18 trained or run on synthetic data, the twin of graphs/resnet18.yaml.

Random weights (torchvision.models.resnet18(), no download), 224x224 RGB, 1000 classes,
SGD with momentum 0.9 (lr 0.1) and CrossEntropyLoss in training, as in the YAML. It measures
as `opgraph bench` does: two synthetic batches generated once and alternated, W untimed
warm-up steps, then N timed steps; max_rss_bytes is the process's peak RSS.
--precision f32|bf16|int8 as in bench/mnist_torch.py (bf16: autocast to bfloat16 with a
channels-last model and input, float32 master weights in training; int8: FX post-training
static quantization for the onednn engine, inference only).

  /usr/bin/python3 bench/resnet18_torch.py --mode train --batch-size 32 --steps 5 --json
  /usr/bin/python3 bench/resnet18_torch.py --mode infer --precision int8 --batch-size 1 --json

glibc malloc is tuned as in bench/mnist_torch.py (freed blocks kept for reuse, as PyTorch's
CPU guides advise); --glibc-malloc-defaults measures without that.
"""
import argparse
import json
import resource
import statistics
import sys
import time

import torch
import torchvision

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from mnist_torch import (add_precision_args, autocast, check_precision,  # noqa: E402
                         quantize_int8, tune_malloc)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=("train", "infer"), default="train")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--channels-last", action="store_true", help="NHWC memory format")
    ap.add_argument("--glibc-malloc-defaults", action="store_true")
    add_precision_args(ap)
    ap.add_argument("--json", action="store_true", help="print one JSON line")
    args = ap.parse_args()
    check_precision(ap, args)
    malloc_tuned = False if args.glibc_malloc_defaults else tune_malloc()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    model = torchvision.models.resnet18().to(memory_format=fmt)
    params = sum(p.numel() for p in model.parameters())  # before int8 packs the weights
    b = args.batch_size
    images = [torch.rand(b, 3, 224, 224).contiguous(memory_format=fmt) for _ in range(2)]
    labels = [torch.randint(0, 1000, (b,)) for _ in range(2)]
    cast = lambda: autocast(args.precision)
    if args.mode == "train":
        model.train()
        loss_fn = torch.nn.CrossEntropyLoss()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(i):
            opt.zero_grad(set_to_none=True)
            with cast():
                loss = loss_fn(model(images[i % 2]), labels[i % 2])
            loss.backward()
            opt.step()
    else:
        model.eval()
        if args.precision == "int8":
            model = quantize_int8(model, [torch.rand_like(images[0])
                                          for _ in range(args.calibration_batches)])

        def step(i):
            with torch.inference_mode(), cast():
                torch.softmax(model(images[i % 2]), dim=1)
    for i in range(args.warmup):
        step(i)
    times = []
    start = time.perf_counter()
    for i in range(args.steps):
        t0 = time.perf_counter()
        step(args.warmup + i)
        times.append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    report = {
        "framework": "pytorch",
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
        "mode": args.mode,
        "precision": args.precision,
        "batch_size": b,
        "steps": args.steps,
        "warmup": args.warmup,
        "threads": torch.get_num_threads(),
        "images_per_second": b * args.steps / total,
        "ms_per_step": 1e3 * total / args.steps,
        "median_ms_per_step": 1e3 * statistics.median(times),
        "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "params": params,
        "channels_last": args.channels_last,
        "malloc_tuned": malloc_tuned,
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(f"pytorch {torch.__version__} resnet18 {args.mode} {args.precision} batch {b}: "
              f"{report['images_per_second']:.1f} images/s, median "
              f"{report['median_ms_per_step']:.2f} ms/step, peak RSS "
              f"{report['max_rss_bytes'] / 2**20:.0f} MiB")


if __name__ == "__main__":
    sys.exit(main())
