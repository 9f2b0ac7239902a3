using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Tina.Runtime;

/// <summary>
/// One-time process set-up for TorchSharp work: glibc allocator tuning, thread count, and the compute device.
/// glibc returns large tensor buffers to the OS after every step by default; keeping them (higher mmap/trim
/// thresholds) made CPU training 2–4× faster on the reference machine (see docs/ENVIRONMENT notes).
/// </summary>
public static class TorchRuntime
{
    // Set only after the thread count is applied: a second thread that sees it set reads a valid _threads (a flag set
    // first let parallel tests read 0 and crash libtorch with "Expected positive number of threads").
    private static volatile bool _initialized;
    private static readonly Lock Gate = new();

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int MallOpt(int param, int value);

    private const int M_TRIM_THRESHOLD = -1, M_TOP_PAD = -2, M_MMAP_THRESHOLD = -3;

    /// <summary>
    /// The intra-op thread count <see cref="Initialize"/> applies when it is called without one; null (default): the
    /// number of cores. Set it before the first TorchSharp work (the CLI sets it from <c>TINA_THREADS</c>; the library
    /// reads no environment variable).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a count below 1.</exception>
    public static int? DefaultThreads
    {
        get => _defaultThreads;
        set => _defaultThreads = value is null or >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(DefaultThreads), value, "The thread count must be at least 1.");
    }

    private static int? _defaultThreads;

    /// <summary>
    /// Tunes the allocator (Linux/glibc only; a no-op elsewhere) and sets TorchSharp's intra-op threads: the
    /// <paramref name="threads"/> argument, else <see cref="DefaultThreads"/>, else the number of cores.
    /// Use 1 thread when another CPU-heavy process shares the machine: libtorch's threads wait on each other at every
    /// operation, and a preempted thread stalls them all (measured here: several times slower than one thread).
    /// Safe to call many times; only the first call acts.
    /// </summary>
    public static void Initialize(int? threads = null)
    {
        if (_initialized) return;
        lock (Gate)
        {
            if (_initialized) return;
            Configure(threads);
            _initialized = true;
        }
    }

    private static void Configure(int? threads)
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                MallOpt(M_MMAP_THRESHOLD, 32 << 20);
                MallOpt(M_TRIM_THRESHOLD, int.MaxValue);
                MallOpt(M_TOP_PAD, 256 << 20);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // musl or another libc without mallopt: keep the defaults.
            }
        }
        _threads = threads ?? _defaultThreads ?? Environment.ProcessorCount;
        torch.set_num_threads(_threads);
    }

    private static int _threads;

    /// <summary>The process's intra-op thread count (<see cref="DefaultThreads"/>, else the cores), which <see cref="UseOnThisThread"/> applies.</summary>
    public static int Threads
    {
        get
        {
            Initialize();
            return _threads;
        }
    }

    /// <summary>
    /// Applies the thread count chosen by <see cref="Initialize"/> to the calling thread. libtorch's OpenMP thread
    /// count is a per-thread setting: a thread the process starts later (a server's worker) otherwise runs with the
    /// default (every core), which splits matrix products differently and changes the last bits of generated weights
    /// (measured: a served classifier differed from <c>tina generate</c>'s until its worker called this).
    /// </summary>
    public static void UseOnThisThread()
    {
        Initialize();
        torch.set_num_threads(_threads);
    }

    /// <summary>
    /// Parses a device name (<c>cpu</c>, <c>cuda</c>, <c>cuda:1</c>). CUDA needs the GPU build
    /// (<c>-p:TinaDevice=cuda</c>); asking for it on the CPU build is a clear error.
    /// </summary>
    public static Device ParseDevice(string? name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Equals("cpu", StringComparison.OrdinalIgnoreCase)) return CPU;
        if (name.StartsWith("cuda", StringComparison.OrdinalIgnoreCase))
        {
            if (!cuda.is_available())
                throw new TinaException($"Device '{name}' requested but CUDA is not available. Build with -p:TinaDevice=cuda on a machine with an NVIDIA GPU, or use --device cpu.");
            return torch.device(name.ToLowerInvariant());
        }
        throw new TinaException($"Unknown device '{name}'. Use cpu or cuda[:N].");
    }
}
