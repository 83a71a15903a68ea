using System.Diagnostics;

namespace TcpTalk.FunctionalTests.Infrastructure;

/// <summary>
/// A fact that runs the server in a mount namespace of its own with a small tmpfs (so the test owns a disk it can
/// fill): needs Linux, root and <c>unshare</c>. Skipped, with the reason, where the probe fails.
/// </summary>
public sealed class MountNamespaceFactAttribute : FactAttribute
{
    public MountNamespaceFactAttribute()
    {
        if (Requirements.MountNamespace.Value is { } missing)
        {
            Skip = missing;
        }
    }
}

/// <summary>
/// A fact that injects system-call errors into the running server with <c>strace -p ... -e inject=</c>: needs
/// Linux, strace, and the right to trace a process that is not strace's child (root, or Yama ptrace_scope 0).
/// </summary>
public sealed class PtraceFactAttribute : FactAttribute
{
    public PtraceFactAttribute()
    {
        if (Requirements.Ptrace.Value is { } missing)
        {
            Skip = missing;
        }
    }
}

/// <summary>Probes, run once per test run: null when the capability is there, else why the tests are skipped.</summary>
internal static class Requirements
{
    public static readonly Lazy<string?> MountNamespace = new(ProbeMountNamespace);

    public static readonly Lazy<string?> Ptrace = new(ProbePtrace);

    private static string? ProbeMountNamespace()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "needs Linux: the server runs in a mount namespace with a small tmpfs (unshare -m)";
        }

        if (Environment.UserName != "root")
        {
            return $"needs root for 'unshare -m' and 'mount -t tmpfs' (running as {Environment.UserName})";
        }

        // Mount a tiny tmpfs in a private namespace, as the tests do; it never shows outside the namespace.
        string dir = Directory.CreateTempSubdirectory("tcptalk-probe-").FullName;
        try
        {
            var (code, error) = Run("unshare", "-m", "--propagation", "private", "sh", "-c", $"mount -t tmpfs -o size=64k tcptalk-probe '{dir}'");
            return code == 0 ? null : $"'unshare -m' with 'mount -t tmpfs' does not work here (exit {code}: {error})";
        }
        finally
        {
            Directory.Delete(dir);
        }
    }

    private static string? ProbePtrace()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "needs Linux: errors are injected with strace";
        }

        const string scopeFile = "/proc/sys/kernel/yama/ptrace_scope";
        string scope = File.Exists(scopeFile) ? File.ReadAllText(scopeFile).Trim() : "0";
        if (Environment.UserName != "root" && scope != "0")
        {
            return $"needs root or ptrace_scope 0 to attach strace to the server (running as {Environment.UserName}, ptrace_scope {scope})";
        }

        var (code, error) = Run("strace", "-o", "/dev/null", "true");
        return code == 0 ? null : $"strace does not work here (exit {code}: {error})";
    }

    private static (int Code, string Error) Run(string file, params string[] arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            string error = process.StandardError.ReadToEnd().Trim();
            if (!process.WaitForExit(10_000))
            {
                process.Kill();
                return (-1, "timed out");
            }

            return (process.ExitCode, error);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, $"{file} not found: {e.Message}");
        }
    }
}
