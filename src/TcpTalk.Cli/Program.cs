using System.CommandLine;
using System.Runtime.InteropServices;
using TcpTalk.Cli;
using TcpTalk.Cli.Commands;

// Program wires the verbs and turns Ctrl+C / SIGTERM into a cancellation token; each verb lives in Commands/.

// serve decides once its configuration (which may enable TLS) is read, before its first socket operation.
if (args is not ["serve", ..])
{
    SocketTuning.UseInlineCompletions(tls: args.Contains("--tls-cert"));
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
var root = new RootCommand("TcpTalk: the classic TCP greeting server and client, made real. Exit codes: see README.md (\"Exit codes\").")
{
    ServeCommand.Create(common, () => shutdown.Token),
    SendCommand.Create(common, () => shutdown.Token),
    MessagesCommand.Create(common, () => shutdown.Token),
    BenchCommand.Create(common, () => shutdown.Token),
    CertCommand.Create(),
};

HelpDefaults.ApplyTo(root);
ConversionGuard.ApplyTo(root);

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    return UsageErrors.Report(parsed, Console.Out, Console.Error);
}

try
{
    return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }, shutdown.Token);
}
catch (Exception e) when (e is not OutOfMemoryException)
{
    return ErrorReporter.Report(e, Console.Error);
}
