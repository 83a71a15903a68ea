using System.Runtime.InteropServices;

namespace TcpTalk.Server;

/// <summary>
/// The process's limit of open file descriptors (RLIMIT_NOFILE, what <c>ulimit -n</c> shows), from which the
/// default <see cref="TalkServerOptions.MaxConnections"/> is derived: every connection is one descriptor, and a
/// server that runs out of them can no longer accept, open its journal, or (under the JIT runtime) even run.
/// </summary>
internal static partial class DescriptorLimit
{
    /// <summary>
    /// Descriptors kept for everything that is not a client: stdin/out/err, the listeners, the journal (database,
    /// WAL, shared memory, lock file), the runtime's own (epoll, event and signal pipes, the JIT's double-mapped
    /// code, every loaded assembly file, open twice) and headroom. Measured: a JIT server with a journal holds
    /// 126 descriptors before its first client, the NativeAOT build 18.
    /// </summary>
    public const int Reserve = 256;

    /// <summary>The limit used where there is none to read (Windows) or it is unlimited or very large.</summary>
    public const int Fallback = 10_000;

    /// <summary>The default <see cref="TalkServerOptions.MaxConnections"/>, computed once per process.</summary>
    public static int DefaultMaxConnections { get; } = FromSoftLimit(TryGetSoftLimit());

    /// <summary>
    /// <see cref="Fallback"/> when <paramref name="softLimit"/> is unknown or leaves room for it; else the limit
    /// minus <see cref="Reserve"/>, and at least a quarter of the limit when the limit is tiny.
    /// </summary>
    public static int FromSoftLimit(long? softLimit)
    {
        if (softLimit is not { } limit || limit - Reserve >= Fallback)
        {
            return Fallback;
        }

        return (int)Math.Max(limit - Reserve, Math.Max(1, limit / 4));
    }

    /// <summary>The soft RLIMIT_NOFILE of this process, or null where it cannot be read (Windows, failure).</summary>
    public static long? TryGetSoftLimit()
    {
        int resource;
        if (OperatingSystem.IsLinux())
        {
            resource = 7; // RLIMIT_NOFILE in <bits/resource.h>
        }
        else if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            resource = 8; // RLIMIT_NOFILE in <sys/resource.h>
        }
        else
        {
            return null; // Windows has no per-process descriptor limit of this kind
        }

        try
        {
            if (GetRLimit(resource, out var limit) != 0)
            {
                return null;
            }

            // RLIM_INFINITY is all ones: report it as "no limit" (null) rather than a huge number.
            return limit.Current == nuint.MaxValue || limit.Current > (nuint)int.MaxValue ? null : (long)limit.Current;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary><c>struct rlimit</c>: <c>rlim_t</c> is <c>unsigned long</c> on Linux and 64 bits on macOS/FreeBSD.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public nuint Current;
        public nuint Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit")]
    private static partial int GetRLimit(int resource, out RLimit limit);
}
