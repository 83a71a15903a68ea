using TcpTalk.Journal;
using TcpTalk.TestSupport;

// Usage: TcpTalk.Journal.LockHolder PATH
// Prints "holding <pid>" once it holds the journal and keeps it until stdin reaches EOF; or prints
// "refused <message>" and exits with 3 when another writer holds it.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: TcpTalk.Journal.LockHolder PATH");
    return 2;
}

if (HeldUntilStdinCloses.TryOpen<SqliteMessageJournal, JournalInUseException>(() => SqliteMessageJournal.Open(args[0])) is not { } journal)
{
    return HeldUntilStdinCloses.RefusedExitCode;
}

await using (journal)
{
    await HeldUntilStdinCloses.HoldAsync();
}

return 0;
