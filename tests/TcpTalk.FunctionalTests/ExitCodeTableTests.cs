using TcpTalk.Cli;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// The exit code table is written twice, in README.md and in the tool package's README (src/TcpTalk.Cli/README.md,
/// what nuget.org shows): both must be the same table, and list exactly the codes <see cref="ExitCode"/> defines.
/// </summary>
public class ExitCodeTableTests
{
    [Fact]
    public void TheToolPackageReadmeHasTheSameExitCodeTableAsTheRepositoryReadme()
    {
        var repository = ExitCodeRows("README.md");
        var package = ExitCodeRows(Path.Combine("src", "TcpTalk.Cli", "README.md"));

        Assert.NotEmpty(repository);
        Assert.Equal(repository, package);
    }

    [Fact]
    public void TheExitCodeTableListsEveryExitCodeAndNoOther()
    {
        var codes = ExitCodeRows("README.md").Select(row => int.Parse(row[2..row.IndexOf(" |", 1, StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(Enum.GetValues<ExitCode>().Select(c => (int)c).Order(), codes.Order());
    }

    /// <summary>The rows of the first table whose header is <c>| code | meaning |</c> in the file.</summary>
    private static List<string> ExitCodeRows(string relativePath)
    {
        string[] lines = File.ReadAllLines(Path.Combine(RepositoryRoot(), relativePath));
        int header = Array.IndexOf(lines, "| code | meaning |");
        Assert.True(header >= 0, $"{relativePath} has no exit code table ('| code | meaning |')");
        return [.. lines.Skip(header + 2).TakeWhile(l => l.StartsWith("| ", StringComparison.Ordinal))];
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TcpTalk.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("no TcpTalk.slnx above " + AppContext.BaseDirectory);
    }
}
