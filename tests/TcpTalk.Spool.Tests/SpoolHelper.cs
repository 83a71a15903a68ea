namespace TcpTalk.Spool.Tests;

/// <summary>The helper process tests/TcpTalk.Spool.Appender: holds a spool, or appends to it until killed.</summary>
internal static class SpoolHelper
{
    public static HelperProcess Start(params string[] arguments) => HelperProcess.Start("TcpTalk.Spool.Appender.dll", arguments);
}

/// <summary>A temporary directory for one test's spool, deleted afterwards.</summary>
internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("tcptalk-spool-").FullName;

    public string Spool => System.IO.Path.Combine(Path, "spool");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
