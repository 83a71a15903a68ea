using SharpFuzz;
using TcpTalk.Fuzz;

// tcptalk fuzz targets. Under afl-fuzz (bench/fuzz.sh):  TcpTalk.Fuzz <target>
// Replaying inputs without AFL (triage, regressions):     TcpTalk.Fuzz <target> FILE...
// crash-check: fails on inputs starting with "crash", so bench/fuzz.sh can prove that AFL sees a target's exceptions.
Action<byte[]>? target = args is ["crash-check", ..]
    ? data => InvariantViolationException.Check(!data.AsSpan().StartsWith("crash"u8), "crash-check: the input starts with 'crash'", data)
    : null;
if (args.Length == 0 || (target is null && !FuzzTargets.All.TryGetValue(args[0], out target)))
{
    Console.Error.WriteLine($"usage: TcpTalk.Fuzz <{string.Join('|', FuzzTargets.All.Keys)}> [FILE...]");
    return 2;
}

if (args.Length == 1)
{
    Fuzzer.OutOfProcess.Run(stream =>
    {
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        target(memory.ToArray());
    });
    return 0;
}

int failed = 0;
foreach (string file in args[1..])
{
    try
    {
        target(File.ReadAllBytes(file));
        Console.WriteLine($"ok     {file}");
    }
    catch (Exception e)
    {
        failed++;
        Console.WriteLine($"FAILED {file}: {e}");
    }
}

return failed == 0 ? 0 : 1;
