using System.Collections;

namespace TcpTalk.Cli.Configuration;

/// <summary>
/// What <see cref="ServeConfiguration.Load"/> reads, gathered by the caller so that loading itself touches no
/// ambient state: the JSON files (lowest first), the environment, and the flags.
/// </summary>
/// <param name="Files">appsettings.json files that exist, lowest layer first (see <see cref="FindFiles"/>).</param>
/// <param name="Environment">Environment variables; those starting with <see cref="ServeConfiguration.EnvironmentPrefix"/> are read.</param>
/// <param name="Flags">The flags given on the command line, each with the key it sets and its values as typed.</param>
/// <param name="FlagNames">Every flag's key and name, given or not (<c>Tls:Key</c> is <c>--tls-key</c>): for sentences that point at another setting.</param>
/// <param name="OptionalFiles">
/// Where appsettings.json may be (see <see cref="OptionalFilesFor"/>): watched by a running <c>serve</c> and looked for
/// again at each reload (<see cref="Refound"/>), so one created after the start is read. Empty with <c>--config</c>,
/// whose file must exist at every load.
/// </param>
internal sealed record ConfigurationInputs(
    IReadOnlyList<string> Files,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<GivenFlag> Flags,
    IReadOnlyDictionary<string, string> FlagNames,
    IReadOnlyList<string>? OptionalFiles = null)
{
    /// <summary>Every file a running <c>serve</c> watches: those read now and those that may appear.</summary>
    public IEnumerable<string> WatchedFiles => Files.Concat(OptionalFiles ?? []).Distinct(StringComparer.Ordinal);

    /// <summary>These inputs with <see cref="Files"/> looked for again among <see cref="OptionalFiles"/> (unchanged without them).</summary>
    public ConfigurationInputs Refound() =>
        OptionalFiles is { Count: > 0 } optional ? this with { Files = [.. optional.Where(File.Exists)] } : this;

    /// <summary>
    /// Where appsettings.json may be when <paramref name="configFile"/> is not given: beside the executable, then in
    /// the working directory (the latter wins); none with <paramref name="configFile"/>.
    /// </summary>
    public static IReadOnlyList<string> OptionalFilesFor(string? configFile, string executableDirectory, string workingDirectory) =>
        configFile is not null ? [] : [.. new[] { Path.Combine(executableDirectory, ServeConfiguration.FileName), Path.Combine(workingDirectory, ServeConfiguration.FileName) }
            .Distinct(StringComparer.Ordinal)];

    /// <summary>
    /// The files to read: only <paramref name="configFile"/> when given (it must exist), else appsettings.json beside
    /// the executable, then in the working directory (the latter wins), each where it exists.
    /// </summary>
    /// <exception cref="UserErrorException"><paramref name="configFile"/> does not exist (<see cref="ExitCode.Usage"/>).</exception>
    public static IReadOnlyList<string> FindFiles(string? configFile, string executableDirectory, string workingDirectory)
    {
        if (configFile is not null)
        {
            string full = Path.GetFullPath(configFile, workingDirectory);
            return File.Exists(full) ? [full] : throw new UserErrorException(ExitCode.Usage, $"--config {configFile}: no such file");
        }

        return [.. OptionalFilesFor(configFile, executableDirectory, workingDirectory).Where(File.Exists)];
    }

    /// <summary>The process's environment variables, as <see cref="Environment"/> takes them.</summary>
    public static IReadOnlyDictionary<string, string> ProcessEnvironment()
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            variables[(string)entry.Key] = (string?)entry.Value ?? "";
        }

        return variables;
    }
}

/// <summary>A flag given on the command line: the configuration key it sets, its name, and its values as typed (any number for a list).</summary>
internal sealed record GivenFlag(string Key, string Flag, IReadOnlyList<string> Values);
