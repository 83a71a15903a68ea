using TcpTalk.Journal;

// Usage: TcpTalk.Journal.LockHolder PATH
// Prints "holding <pid>" once it holds the journal and keeps it until stdin reaches EOF; or prints
// "refused <message>" and exits with 3 when another writer holds it.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: TcpTalk.Journal.LockHolder PATH");
    return 2;
}

SqliteMessageJournal journal;
try
{
    journal = SqliteMessageJournal.Open(args[0]);
}
catch (JournalInUseException e)
{
    Console.WriteLine($"refused {e.Message}");
    return 3;
}

await using (journal)
{
    Console.WriteLine($"holding {Environment.ProcessId}");
    await Console.In.ReadToEndAsync();
}

return 0;
