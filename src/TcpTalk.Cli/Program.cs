using System.CommandLine;
using System.Runtime.InteropServices;
using TcpTalk.Cli;
using TcpTalk.Cli.Commands;

// Program wires the verbs and turns Ctrl+C / SIGTERM into a cancellation token; each verb lives in Commands/.

// Run socket continuations on the epoll thread instead of hopping to the thread pool (Unix only; read once, before
// the first socket operation). The connection handlers never block, so this only removes a hop per I/O: measured
// about a third less server CPU per session (bench/). A value set by the user wins. A TLS server keeps the default:
// its continuations do handshake cryptography, which must not hold up every other connection's I/O.
const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
if (Environment.GetEnvironmentVariable(InlineCompletions) is null && !args.Contains("--tls-cert"))
{
    Environment.SetEnvironmentVariable(InlineCompletions, "1");
}
using var shutdown = new CancellationTokenSource();
int signals = 0;
void OnSignal(PosixSignalContext context)
{
    // The first signal asks for a graceful stop; a second one terminates at once.
    if (Interlocked.Increment(ref signals) == 1)
    {
        context.Cancel = true;
        shutdown.Cancel();
    }
}

using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

var common = new CommonOptions();
var root = new RootCommand("TcpTalk: the classic TCP greeting server and client, made real. Exit codes: see README.md.")
{
    ServeCommand.Create(common, () => shutdown.Token),
    SendCommand.Create(common, () => shutdown.Token),
    MessagesCommand.Create(common, () => shutdown.Token),
    BenchCommand.Create(common, () => shutdown.Token),
    CertCommand.Create(),
};

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    Console.Error.WriteLine($"tcptalk: {string.Join("; ", parsed.Errors.Select(e => e.Message))} (see 'tcptalk --help')");
    return (int)ExitCode.Usage;
}

try
{
    return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }, shutdown.Token);
}
catch (Exception e) when (e is not OutOfMemoryException)
{
    return ErrorReporter.Report(e, Console.Error);
}
