namespace TcpTalk.FunctionalTests.Infrastructure;

/// <summary>
/// A fact that runs the NativeAOT executable <c>artifacts/aot/tcptalk</c> (CI publishes it before the tests:
/// <c>dotnet publish src/TcpTalk.Cli -c Release -r linux-x64 -p:PublishAot=true -o artifacts/aot</c>) under a
/// shell's <c>ulimit</c>. Skipped where it is absent or not Linux, with a message that says why the test needs it
/// (<paramref name="because"/>) and how to get it, so the skip explains itself in the test output.
/// </summary>
/// <param name="because">Why this test needs the NativeAOT build rather than <c>dotnet tcptalk.dll</c>.</param>
public sealed class NativeAotFactAttribute(string because) : FactAttribute
{
    public override string? Skip
    {
        get => base.Skip ?? Missing();
        set => base.Skip = value;
    }

    private string? Missing()
    {
        if (!OperatingSystem.IsLinux())
        {
            return $"needs Linux: the NativeAOT build under test is linux-x64, run under 'sh -c ulimit' ({because})";
        }

        return NativeAot.Executable is null
            ? $"needs the NativeAOT build, because {because}; it is absent: publish it first with '{NativeAot.PublishCommand}' (looked for {NativeAot.Expected})"
            : null;
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
