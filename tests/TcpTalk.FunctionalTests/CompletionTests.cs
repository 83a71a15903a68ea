using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// Tab completion (README.md, "Tab completion"): System.CommandLine's <c>[suggest:POSITION]</c> directive, which the
/// shell hooks and dotnet-suggest call, and the bash hook exactly as README.md gives it.
/// </summary>
public class CompletionTests
{
    private static readonly string[] MaxFlagsOfServe = ["--max-connections", "--max-connections-per-address", "--max-message-bytes"];

    [Fact]
    public async Task SuggestCompletesTheVerbsThatMatchWhatIsTyped()
    {
        var (code, stdout, stderr) = await SuggestAsync("tcptalk se");

        Assert.Equal(0, code);
        Assert.Empty(stderr);
        Assert.Contains("serve", stdout);
        Assert.Contains("send", stdout);
        Assert.DoesNotContain("messages", stdout);
        Assert.DoesNotContain("cert", stdout);
    }

    [Fact]
    public async Task SuggestCompletesTheServeFlagsThatStartWithWhatIsTyped()
    {
        var (code, stdout, _) = await SuggestAsync("tcptalk serve --max-");

        Assert.Equal(0, code);
        Assert.Subset(stdout.ToHashSet(), MaxFlagsOfServe.ToHashSet());
        Assert.All(stdout, s => Assert.StartsWith("--max-", s, StringComparison.Ordinal));
    }

    [Fact]
    public async Task SuggestCompletesTheWordAtThePositionNotTheEndOfTheLine()
    {
        // The cursor after "se", with more typed after it: still the verbs, not the values of --port.
        var (code, stdout, _) = await SuggestAsync("tcptalk se --port 9000", position: "tcptalk se".Length);

        Assert.Equal(0, code);
        Assert.Contains("serve", stdout);
        Assert.DoesNotContain("--port", stdout);
    }

    [Fact]
    public async Task TheReadmeBashHookCompletesServeFlagsThroughTheTcptalkOnThePath()
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the bash hook needs bash and a Unix file mode");
        }

        string folder = Directory.CreateTempSubdirectory("tcptalk-completion-").FullName;
        try
        {
            // 'tcptalk' on PATH, as the installed tool would be, and the hook copied out of README.md.
            string tcptalk = Path.Combine(folder, "tcptalk");
            await File.WriteAllTextAsync(tcptalk, $"#!/bin/sh\nexec dotnet '{Tcptalk.Dll}' \"$@\"\n");
            File.SetUnixFileMode(tcptalk, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            string hook = Path.Combine(folder, "hook.bash");
            await File.WriteAllTextAsync(hook, ReadmeBlockStartingWith("# bash:"));

            const string script = """
                source "$1"
                complete -p tcptalk
                COMP_LINE='tcptalk serve --max-'; COMP_POINT=${#COMP_LINE}
                COMP_WORDS=(tcptalk serve --max-); COMP_CWORD=2
                _tcptalk
                printf '%s\n' "${COMPREPLY[@]}"
                """;
            var environment = new Dictionary<string, string>
            {
                ["PATH"] = $"{folder}:{Environment.GetEnvironmentVariable("PATH")}",
            };
            await using var bash = RunningProcess.Start("bash", ["-c", script, "bash", hook], stdinText: "", environment);
            int code = await bash.WaitForExitAsync(TimeSpan.FromSeconds(30));

            Assert.True(code == 0, $"bash exited {code}: {string.Join(" | ", bash.Stderr)}");
            Assert.Equal("complete -o default -F _tcptalk tcptalk", bash.Stdout[0]);
            Assert.Subset(bash.Stdout.Skip(1).ToHashSet(), MaxFlagsOfServe.ToHashSet());
            Assert.All(bash.Stdout.Skip(1), s => Assert.StartsWith("--max-", s, StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static Task<(int Code, IReadOnlyList<string> Stdout, IReadOnlyList<string> Stderr)> SuggestAsync(string line, int? position = null) =>
        Tcptalk.RunAsync([$"[suggest:{position ?? line.Length}]", line]);

    /// <summary>The fenced code block of the repository's README.md whose first line starts with <paramref name="firstLine"/>.</summary>
    private static string ReadmeBlockStartingWith(string firstLine)
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "TcpTalk.slnx")))
        {
            folder = folder.Parent;
        }

        Assert.NotNull(folder);
        string[] lines = File.ReadAllLines(Path.Combine(folder.FullName, "README.md"));
        int start = Array.FindIndex(lines, l => l.StartsWith(firstLine, StringComparison.Ordinal));
        Assert.True(start > 0 && lines[start - 1].StartsWith("```", StringComparison.Ordinal), $"README.md has no code block starting with '{firstLine}'");
        int end = Array.FindIndex(lines, start, l => l == "```");
        return string.Join('\n', lines[start..end]) + "\n";
    }
}
