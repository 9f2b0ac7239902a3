// .NET 9 APIs that the libraries use, for their net8.0 build (compiled only into it; see Directory.Build.targets).
// Each library gets its own internal copy, except one that sees Tina.MLNet's internals and uses its copy.
#if !NET9_0_OR_GREATER
namespace System.Threading
{
    /// <summary>
    /// .NET 8 stand-in for .NET 9's <c>System.Threading.Lock</c>: the compiler turns <c>lock</c> on a <c>Lock</c> into
    /// <see cref="EnterScope"/> and <see cref="Scope.Dispose"/>, which here take and release a monitor.
    /// </summary>
    internal sealed class Lock
    {
        private readonly object _monitor = new();

        /// <summary>Enters the lock; the returned scope leaves it when disposed.</summary>
        public Scope EnterScope()
        {
            Monitor.Enter(_monitor);
            return new Scope(_monitor);
        }

        /// <summary>A held lock.</summary>
        public readonly ref struct Scope
        {
            private readonly object _monitor;

            internal Scope(object monitor) => _monitor = monitor;

            /// <summary>Leaves the lock.</summary>
            public void Dispose() => Monitor.Exit(_monitor);
        }
    }
}

namespace System
{
    /// <summary>.NET 8 stand-in for .NET 9's <c>Convert.ToHexStringLower</c> (a C# 14 static extension member).</summary>
    internal static class TinaConvertPolyfill
    {
        extension(Convert)
        {
            /// <summary>Lower-case hexadecimal digits of <paramref name="bytes"/>.</summary>
            public static string ToHexStringLower(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

            /// <summary>Lower-case hexadecimal digits of <paramref name="bytes"/>.</summary>
            public static string ToHexStringLower(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
        }
    }
}
#endif
