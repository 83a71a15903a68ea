using System.Diagnostics;

namespace TcpTalk.FunctionalTests.Infrastructure;

/// <summary>Compiles the POSIX ports of the classic tutorial programs with gcc, once per test run.</summary>
public sealed class CPrograms : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-c-").FullName;

    public CPrograms()
    {
        Server = Compile("classic_server");
        Client = Compile("classic_client");
    }

    public string Server { get; }

    public string Client { get; }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Compile(string name)
    {
        string source = Path.Combine(AppContext.BaseDirectory, "CPrograms", name + ".c");
        string output = Path.Combine(_dir, name);
        using var gcc = Process.Start(new ProcessStartInfo("gcc", ["-O1", "-Wall", "-o", output, source])
        {
            RedirectStandardError = true,
        })!;
        string errors = gcc.StandardError.ReadToEnd();
        if (!gcc.WaitForExit(60_000) || gcc.ExitCode != 0)
        {
            throw new InvalidOperationException($"gcc failed for {name}: {errors}");
        }

        return output;
    }
}

[CollectionDefinition(Name)]
public sealed class CProgramsCollection : ICollectionFixture<CPrograms>
{
    public const string Name = "classic C programs";
}
