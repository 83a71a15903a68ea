using System.Runtime.CompilerServices;

namespace TcpTalk.Cli.Configuration;

/// <summary>
/// A configuration value that cannot be used, thrown by a settings property's setter while binding. The property
/// name comes from the caller, so <see cref="ServeConfiguration"/> can name the key and where the value came from.
/// </summary>
internal sealed class SettingValueException(string problem, [CallerMemberName] string property = "") : Exception(problem)
{
    /// <summary>The settings property (the last part of the configuration key).</summary>
    public string Property { get; } = property;

    /// <summary>What is wrong, worded to follow the setting's name: <c>must be a duration (5s, 250ms, 2m), not 'x'</c>.</summary>
    public string Problem { get; } = problem;
}
