namespace TcpTalk.FunctionalTests.Infrastructure;

/// <summary>
/// A fact that runs the NativeAOT executable <c>artifacts/aot/tcptalk</c> (CI publishes it before the tests:
/// <c>dotnet publish src/TcpTalk.Cli -c Release -r linux-x64 -p:PublishAot=true -o artifacts/aot</c>) under a
/// shell's <c>ulimit</c>. Skipped, with the reason, where it is absent or not Linux.
/// </summary>
public sealed class NativeAotFactAttribute : FactAttribute
{
    public NativeAotFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "needs Linux: the NativeAOT build under test is linux-x64, run under 'sh -c ulimit'";
        }
        else if (NativeAot.Executable is null)
        {
            Skip = $"the NativeAOT build is absent: publish it first with '{NativeAot.PublishCommand}' (looked for {NativeAot.Expected})";
        }
    }
}

/// <summary>Where the NativeAOT build of <c>tcptalk</c> is, relative to the repository the tests were built in.</summary>
public static class NativeAot
{
    public const string PublishCommand = "dotnet publish src/TcpTalk.Cli -c Release -r linux-x64 -p:PublishAot=true -o artifacts/aot";

    /// <summary>artifacts/aot/tcptalk under the directory holding TcpTalk.slnx above the test binaries.</summary>
    public static string Expected { get; } = Path.Combine(RepositoryRoot() ?? AppContext.BaseDirectory, "artifacts", "aot", "tcptalk");

    /// <summary>The executable, or null when it has not been published.</summary>
    public static string? Executable => File.Exists(Expected) ? Expected : null;

    private static string? RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TcpTalk.slnx")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
