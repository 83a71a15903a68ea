using System.Globalization;
using System.Text;
using TcpTalk.Spool;
using TcpTalk.TestSupport;

// Usage: TcpTalk.Spool.Appender hold DIR     prints "holding <pid>" and keeps the spool until stdin reaches EOF
//        TcpTalk.Spool.Appender append DIR N  appends batches of N messages "m<sequence>" without pause, printing
//                                             "appended <last sequence>" once each batch is committed, until killed
// Either prints "refused <message>" and exits with 3 when another process holds the spool.
if (args.Length < 2 || (args[0] == "append" && args.Length != 3))
{
    Console.Error.WriteLine("usage: TcpTalk.Spool.Appender hold DIR | append DIR N");
    return 2;
}

if (HeldUntilStdinCloses.TryOpen<SqliteMessageSpool, SpoolInUseException>(() => SqliteMessageSpool.Open(args[1])) is not { } spool)
{
    return HeldUntilStdinCloses.RefusedExitCode;
}

using (spool)
{
    if (args[0] == "hold")
    {
        await HeldUntilStdinCloses.HoldAsync();
        return 0;
    }

    int batch = int.Parse(args[2], CultureInfo.InvariantCulture);
    while (true)
    {
        long first = spool.Backlog.LastSequence + 1;
        var messages = Enumerable.Range(0, batch)
            .Select(i => (ReadOnlyMemory<byte>)Encoding.ASCII.GetBytes($"m{first + i} " + new string('x', 200)))
            .ToList();
        long last = spool.Append(messages);
        Console.WriteLine($"appended {last}");
    }
}
