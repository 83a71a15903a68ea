namespace TcpTalk.TestSupport;

/// <summary>
/// The shape of a helper program that holds something a second process cannot open while it is held (a journal, a
/// spool), as the tests' <c>HelperProcess</c> drives it: it prints <c>refused &lt;message&gt;</c> and exits with
/// <see cref="RefusedExitCode"/> when another process holds it already, or <c>holding &lt;pid&gt;</c> once it holds it,
/// and keeps it until its stdin reaches EOF (the test closes stdin to stop it, or kills it).
/// </summary>
internal static class HeldUntilStdinCloses
{
    /// <summary>The exit code after <c>refused</c>.</summary>
    public const int RefusedExitCode = 3;

    /// <summary>
    /// Opens with <paramref name="open"/>; when that throws <typeparamref name="TInUse"/> (held by another process),
    /// prints <c>refused &lt;message&gt;</c> and returns null.
    /// </summary>
    public static T? TryOpen<T, TInUse>(Func<T> open) where T : class where TInUse : Exception
    {
        try
        {
            return open();
        }
        catch (TInUse e)
        {
            Console.WriteLine($"refused {e.Message}");
            return null;
        }
    }

    /// <summary>Prints <c>holding &lt;pid&gt;</c>, then returns when stdin reaches EOF.</summary>
    public static async Task HoldAsync()
    {
        Console.WriteLine($"holding {Environment.ProcessId}");
        await Console.In.ReadToEndAsync();
    }
}
