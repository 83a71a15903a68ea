using System.Diagnostics;

namespace TcpTalk.FunctionalTests.Infrastructure;

/// <summary>
/// Compiles CPrograms/prefixed_peer.c with gcc, once per test run: a C client for the u16be and u32be framings that
/// reads the framed greeting, sends its arguments as frames, and prints every frame it receives.
/// </summary>
public sealed class PrefixedPeer : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-prefixed-").FullName;

    public PrefixedPeer()
    {
        string source = Path.Combine(AppContext.BaseDirectory, "CPrograms", "prefixed_peer.c");
        Program = Path.Combine(_dir, "prefixed_peer");
        using var gcc = Process.Start(new ProcessStartInfo("gcc", ["-O1", "-Wall", "-o", Program, source])
        {
            RedirectStandardError = true,
        })!;
        string errors = gcc.StandardError.ReadToEnd();
        if (!gcc.WaitForExit(60_000) || gcc.ExitCode != 0)
        {
            throw new InvalidOperationException($"gcc failed for prefixed_peer.c: {errors}");
        }
    }

    /// <summary>The compiled program: <c>prefixed_peer HOST PORT 2|4 [MESSAGE...]</c>.</summary>
    public string Program { get; }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

[CollectionDefinition(Name)]
public sealed class PrefixedPeerCollection : ICollectionFixture<PrefixedPeer>
{
    public const string Name = "prefixed C peer";
}
