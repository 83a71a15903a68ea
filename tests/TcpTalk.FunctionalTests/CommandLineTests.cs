using System.Text.RegularExpressions;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// The command line a new user meets first (issue 16): what <c>tcptalk</c> alone, an unknown verb or option and a bad
/// value say, and the defaults and completions help shows, for every verb the same way.
/// </summary>
public partial class CommandLineTests
{
    /// <summary>A command line for each verb that parses up to the unknown option, and the verb's help command.</summary>
    public static TheoryData<string[], string> EveryVerb => new()
    {
        { ["serve"], "tcptalk serve --help" },
        { ["send", "127.0.0.1:1"], "tcptalk send --help" },
        { ["messages"], "tcptalk messages --help" },
        { ["bench", "127.0.0.1:1"], "tcptalk bench --help" },
        { ["cert", "create", "--out", "unused"], "tcptalk cert create --help" },
        { [], "tcptalk --help" },
    };

    [Fact]
    public async Task TcptalkAlonePrintsTheHelpAndExits2LikeGit()
    {
        var (code, stdout, stderr) = await Tcptalk.RunAsync([]);

        Assert.Equal(2, code);
        Assert.Empty(stderr);
        Assert.Contains("Usage:", stdout);
        Assert.Contains(stdout, l => l.TrimStart().StartsWith("serve ", StringComparison.Ordinal));
        Assert.Contains(stdout, l => l.TrimStart().StartsWith("cert ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CertAlonePrintsItsHelpAndExits2()
    {
        var (code, stdout, stderr) = await Tcptalk.RunAsync(["cert"]);

        Assert.Equal(2, code);
        Assert.Empty(stderr);
        Assert.Contains(stdout, l => l.TrimStart().StartsWith("create ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnUnknownVerbIsNamedAndTheVerbsAreListed()
    {
        var (code, stdout, stderr) = await Tcptalk.RunAsync(["bogus"]);

        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.Equal(["tcptalk: unknown command 'bogus'; the commands are serve, send, messages, bench, cert (tcptalk --help)"], stderr);

        (code, _, stderr) = await Tcptalk.RunAsync(["cert", "bogus"]);
        Assert.Equal(2, code);
        Assert.Equal(["tcptalk: unknown cert command 'bogus'; the commands are create (tcptalk cert --help)"], stderr);
    }

    [Theory]
    [MemberData(nameof(EveryVerb))]
    public async Task AnUnknownOptionIsWordedTheSameInEveryVerbAndNamesTheVerbsOwnHelp(string[] verb, string help)
    {
        var (code, stdout, stderr) = await Tcptalk.RunAsync([.. verb, "--bogus"]);

        Assert.Equal(2, code);
        Assert.Empty(stdout);
        string line = Assert.Single(stderr);
        Assert.StartsWith("tcptalk: unknown option '--bogus' (", line, StringComparison.Ordinal);
        Assert.EndsWith($"{help})", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cert create --out unused --days abc", "tcptalk: --days 'abc' is not a whole number (tcptalk cert create --help)")]
    [InlineData("messages --limit abc", "tcptalk: --limit 'abc' is not a whole number (tcptalk messages --help)")]
    [InlineData("serve --port abc", "tcptalk: --port 'abc' is not a whole number (tcptalk serve --help)")]
    [InlineData("send 127.0.0.1:1 --max-message-bytes abc x", "tcptalk: --max-message-bytes 'abc' is not a whole number (tcptalk send --help)")]
    [InlineData("cert create", "tcptalk: --out is required (tcptalk cert create --help)")]
    [InlineData("send", "tcptalk: missing <host[:port]> (tcptalk send --help)")]
    [InlineData("messages extra", "tcptalk: unexpected argument 'extra' (tcptalk messages --help)")]
    public async Task AValueThatDoesNotParseIsOneLineInFlagsNotAStackTrace(string commandLine, string expected)
    {
        // Before: a number option's range validator threw on 'abc' and the process died with a stack trace (134).
        var (code, stdout, stderr) = await Tcptalk.RunAsync(commandLine.Split(' '));

        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.Equal([expected], stderr);
    }

    [Theory]
    [InlineData("send", "--connect-timeout", "5s")]
    [InlineData("send", "--timeout", "10s")]
    [InlineData("send", "--framing", "nul")]
    [InlineData("send", "--encoding", "utf-8")]
    [InlineData("send", "--max-message-bytes", "65536")]
    [InlineData("bench", "--mode", "session")]
    [InlineData("messages", "--journal", "./tcptalk.db")]
    [InlineData("cert create", "--name", "localhost")]
    [InlineData("cert create", "--days", "30")]
    public async Task HelpShowsEachDefaultAsTheFlagAcceptsIt(string verb, string option, string shown)
    {
        var (code, stdout, _) = await Tcptalk.RunAsync([.. verb.Split(' '), "--help"]);

        Assert.Equal(0, code);
        string line = Assert.Single(stdout, l => Regex.IsMatch(l, $@"^\s+(-\w, )?{Regex.Escape(option)} "));
        Assert.EndsWith($"[default: {shown}]", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("serve")]
    [InlineData("send")]
    [InlineData("messages")]
    [InlineData("bench")]
    [InlineData("cert create")]
    public async Task NoDefaultInHelpIsWrittenAsDotNetWritesIt(string verb)
    {
        var (code, stdout, _) = await Tcptalk.RunAsync([.. verb.Split(' '), "--help"]);

        Assert.Equal(0, code);
        var defaults = stdout.SelectMany(l => DefaultLabel().Matches(l)).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(defaults);
        // No type names (System.Text.UTF8Encoding), no enum casing (Nul, Session), no TimeSpan (00:00:10).
        // The greeting template (Welcome {address}!) is the user's own text, capitals included.
        Assert.All(defaults.Where(d => !d.Contains('{', StringComparison.Ordinal)), d => Assert.DoesNotMatch(@"[A-Z]|^\d\d:\d\d:\d\d", d));
    }

    [Theory]
    [InlineData("tcptalk send 127.0.0.1 --framing ", new[] { "line", "nul", "octet", "u16be", "u32be" })]
    [InlineData("tcptalk bench 127.0.0.1 --mode ", new[] { "hold", "session", "stream" })]
    [InlineData("tcptalk send 127.0.0.1 --encoding ", new[] { "big5", "gbk", "shift_jis", "utf-8", "windows-1252" })]
    public async Task CompletionsOfferTheSpellingsHelpShows(string line, string[] expected)
    {
        var (code, stdout, _) = await Tcptalk.RunAsync([$"[suggest:{line.Length}]", line]);

        Assert.Equal(0, code);
        Assert.Equal(expected, stdout.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AnIoErrorReadsAsTheRuntimesMessageNeverAsAResourceKey()
    {
        // Before: "unexpected error: DirectoryNotFoundException: IO_PathNotFound_Path, /tmp/.../sub" (exit 1).
        string file = Path.GetTempFileName();
        try
        {
            string output = Path.Combine(file, "sub"); // a directory inside a regular file cannot be created
            var (code, stdout, stderr) = await Tcptalk.RunAsync(["cert", "create", "--out", output]);

            Assert.Equal(2, code);
            Assert.Empty(stdout);
            string line = Assert.Single(stderr);
            Assert.StartsWith($"tcptalk: cannot create the directory {output}: ", line, StringComparison.Ordinal);
            Assert.DoesNotMatch(ResourceKey(), line);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [GeneratedRegex(@"\b[A-Z][A-Za-z0-9]*_[A-Za-z0-9_]+\b")]
    private static partial Regex ResourceKey();

    [GeneratedRegex(@"\[default: ([^\]]*)\]")]
    private static partial Regex DefaultLabel();
}
