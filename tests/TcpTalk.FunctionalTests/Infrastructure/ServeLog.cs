using System.Text.RegularExpressions;

namespace TcpTalk.FunctionalTests.Infrastructure;

/// <summary>Reads the log lines <c>tcptalk serve</c> writes on stderr (<c>2026-12-02T10:00:00.000Z info: Category[id] ...</c>).</summary>
internal static partial class ServeLog
{
    /// <summary>Whether <paramref name="line"/> is a log line at Information level (or below): not a failure.</summary>
    public static bool IsInformation(string line) => InformationLine().IsMatch(line);

    [GeneratedRegex(@"^\S+Z (info|dbug|trce): ")]
    private static partial Regex InformationLine();
}
