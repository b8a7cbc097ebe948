#!/usr/bin/python3
"""PyTorch twin of graphs/mnist.yaml, for comparing speed with `opgraph bench`.

The 14,568-parameter MNIST CNN, layer for layer as in the YAML with Keras semantics:
conv2d without bias (ReLU where the YAML says so), batch-norm momentum 0.99 / eps 1e-3
(PyTorch momentum 0.01), dropout 0.1, a 4x4 conv head to 10 classes, batch-norm, flatten,
softmax; categorical cross-entropy (CrossEntropyLoss on the logits), Adam lr 0.003 eps 1e-7.
Keras counts the batch-norm moving mean/variance as parameters (276 non-trainable), so the
count printed is trainable + running statistics = 14,292 + 276 = 14,568.

It measures as `opgraph bench` does: synthetic data (uniform [0, 1) images, random labels,
two batches generated once and alternated), W untimed warm-up steps, then N timed steps.
  --mode train   forward + backward + Adam step, model.train()
  --mode infer   forward + softmax, model.eval(), under torch.inference_mode (or no_grad)
  --precision f32    (default) float32
  --precision bf16   torch.autocast("cpu", dtype=torch.bfloat16), channels-last model and
                     input; training keeps float32 master weights and the same optimizer
  --precision int8   inference only: FX graph-mode post-training static quantization for the
                     onednn engine (get_default_qconfig_mapping("onednn"), prepare_fx,
                     calibration on a few synthetic batches, convert_fx)

  /usr/bin/python3 bench/mnist_torch.py --mode train --batch-size 128 --steps 40 --threads 2
  /usr/bin/python3 bench/mnist_torch.py --mode infer --batch-size 1 --steps 500 --json
  /usr/bin/python3 bench/mnist_torch.py --mode infer --precision int8 --json

Needs Debian's python3-torch (run with /usr/bin/python3). --json prints one JSON line;
max_rss_bytes is the whole process's peak RSS (interpreter and torch import included).

glibc malloc: eager PyTorch allocates and frees every activation each step. With glibc's
defaults, blocks over 128 KiB are mmap()ed and munmap()ed (and the heap top trimmed), so every
step page-faults its activations in afresh; in this VM that made PyTorch 10-20x slower. So,
as PyTorch's CPU tuning guides advise (jemalloc/tcmalloc or equivalent), the script first
sets mallopt(M_MMAP_THRESHOLD, 32 MiB) and mallopt(M_TRIM_THRESHOLD, 1 GiB) to keep freed
memory for reuse; --glibc-malloc-defaults measures without that.
"""
import argparse
import contextlib
import ctypes
import json
import resource
import statistics
import sys
import time

import torch
from torch import nn


def tune_malloc():
    """Keep freed blocks in the heap (see above); True if glibc accepted both settings."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    return bool(libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)) and \
        bool(libc.mallopt(M_TRIM_THRESHOLD, 1 << 30))


PRECISIONS = ("f32", "bf16", "int8")


def add_precision_args(ap):
    ap.add_argument("--precision", choices=PRECISIONS, default="f32",
                    help="bf16: autocast + channels-last; int8: FX static quantization "
                         "(onednn engine), inference only")
    ap.add_argument("--calibration-batches", type=int, default=4,
                    help="int8: synthetic batches the observers see before convert_fx")


def check_precision(ap, args):
    """Refuse what a precision cannot do; bf16 implies channels-last."""
    if args.precision == "int8" and args.mode == "train":
        ap.error("--precision int8 is inference only (post-training static quantization); "
                 "train with --precision f32 or bf16")
    if args.precision == "int8" and "onednn" not in torch.backends.quantized.supported_engines:
        ap.error(f"--precision int8: torch {torch.__version__} has no onednn quantized engine "
                 f"(has {torch.backends.quantized.supported_engines}; needs torch >= 1.13)")
    if args.precision == "bf16":
        args.channels_last = True


def autocast(precision):
    """The context a step's forward pass (and loss) runs in."""
    if precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def quantize_int8(model, batches):
    """FX graph-mode post-training static quantization for oneDNN, calibrated on batches."""
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
    torch.backends.quantized.engine = "onednn"
    prepared = prepare_fx(model.eval(), get_default_qconfig_mapping("onednn"), (batches[0],))
    with torch.no_grad():
        for x in batches:
            prepared(x)
    return convert_fx(prepared)


def blas_libraries():
    """The BLAS libraries mapped (Debian's libtorch uses whichever libblas.so.3 is selected:
    the reference one unless OpenBLAS/BLIS is installed; it matters where mkldnn is not used)."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line and ".so" in line}
    return sorted(paths)


def conv(cin, cout, k, relu=True):
    layers = [nn.Conv2d(cin, cout, k, bias=False)]
    return layers + [nn.ReLU()] if relu else layers


def bn(c):
    return [nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)]


def build_model(dropout=0.1):
    drop = lambda: [nn.Dropout(dropout)]
    layers = (
        conv(1, 32, 3) + bn(32) + drop() + conv(32, 10, 1)             # 28 -> 26
        + conv(10, 32, 3) + bn(32) + drop() + conv(32, 10, 1)          # 26 -> 24
        + [nn.MaxPool2d(2)]                                            # 24 -> 12
        + conv(10, 16, 3) + bn(16) + drop() + conv(16, 10, 1)          # 12 -> 10
        + conv(10, 16, 3) + bn(16) + drop()                            # 10 -> 8
        + conv(16, 16, 3) + bn(16) + drop()                            # 8 -> 6
        + conv(16, 16, 3) + bn(16) + drop()                            # 6 -> 4
        + conv(16, 10, 4, relu=False) + bn(10) + [nn.Flatten()]        # 4 -> 1, logits
    )
    model = nn.Sequential(*layers)
    for m in model.modules():           # Keras default: glorot_uniform kernels
        if isinstance(m, nn.Conv2d):
            nn.init.xavier_uniform_(m.weight)
    return model                        # softmax: in the loss (train) or after (infer)


def count_params(model):
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    stats = sum(b.numel() for name, b in model.named_buffers()
                if name.endswith(("running_mean", "running_var")))
    return trainable, stats


def conv_kernels(step):
    """Names of the aten convolution kernels one step runs (mkldnn or the slow BLAS path)."""
    with torch.autograd.profiler.profile() as prof:
        step()
    names = {e.name for e in prof.function_events}
    return sorted(n for n in names if "conv" in n and n not in
                  ("aten::conv2d", "aten::convolution", "aten::_convolution"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=("train", "infer"), default="infer")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--channels-last", action="store_true", help="NHWC memory format")
    ap.add_argument("--glibc-malloc-defaults", action="store_true",
                    help="do not tune malloc (mmap/trim thresholds) first")
    add_precision_args(ap)
    ap.add_argument("--json", action="store_true", help="print one JSON line")
    args = ap.parse_args()
    check_precision(ap, args)
    malloc_tuned = False if args.glibc_malloc_defaults else tune_malloc()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format

    model = build_model().to(memory_format=fmt)
    trainable, stats = count_params(model)
    params = trainable + stats
    b = args.batch_size
    images = [torch.rand(b, 1, 28, 28).contiguous(memory_format=fmt) for _ in range(2)]
    labels = [torch.randint(0, 10, (b,)) for _ in range(2)]
    cast = lambda: autocast(args.precision)

    if args.mode == "train":
        model.train()
        loss_fn = nn.CrossEntropyLoss()  # log_softmax + nll, averaged over the batch
        opt = torch.optim.Adam(model.parameters(), lr=0.003, eps=1e-7)

        def step(i):
            opt.zero_grad(set_to_none=True)
            with cast():
                loss = loss_fn(model(images[i % 2]), labels[i % 2])
            loss.backward()
            opt.step()
        grad_mode = "autograd"
    else:
        model.eval()
        if args.precision == "int8":
            model = quantize_int8(model, [torch.rand_like(images[0])
                                          for _ in range(args.calibration_batches)])
        ctx = getattr(torch, "inference_mode", torch.no_grad)
        grad_mode = ctx.__name__

        def step(i):
            with ctx(), cast():
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
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # before profiling
    kernels = conv_kernels(lambda: step(0))  # after timing, so it costs nothing measured

    report = {
        "framework": "pytorch",
        "torch_version": torch.__version__,
        "mode": args.mode,
        "precision": args.precision,
        "batch_size": b,
        "steps": args.steps,
        "warmup": args.warmup,
        "threads": torch.get_num_threads(),
        "images_per_second": b * args.steps / total,
        "ms_per_step": 1e3 * total / args.steps,
        "median_ms_per_step": 1e3 * statistics.median(times),
        "max_rss_bytes": max_rss,
        "mkldnn_enabled": torch.backends.mkldnn.is_available(),
        "params": params,
        "trainable_params": trainable,
        "non_trainable_params": stats,
        "grad_mode": grad_mode,
        "channels_last": args.channels_last,
        "malloc_tuned": malloc_tuned,
        "conv_kernels": kernels,
        "blas": blas_libraries(),
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"pytorch {torch.__version__}  {args.mode}  {args.precision}  batch {b}"
          f"  threads {report['threads']}  mkldnn {report['mkldnn_enabled']}"
          f"  ({grad_mode}, malloc tuned {malloc_tuned})")
    print(f"params: {params:,} (trainable {trainable:,}, non-trainable {stats:,})")
    print(f"conv kernels: {', '.join(kernels)}; BLAS: {', '.join(report['blas'])}")
    print(f"{report['images_per_second']:.1f} images/s  {report['ms_per_step']:.3f} ms/step"
          f"  (median {report['median_ms_per_step']:.3f} ms, {args.steps} steps,"
          f" {args.warmup} warm-up)")
    print(f"peak RSS: {report['max_rss_bytes'] / 2**20:.1f} MiB")


if __name__ == "__main__":
    sys.exit(main())
