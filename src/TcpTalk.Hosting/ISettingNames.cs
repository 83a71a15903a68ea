namespace TcpTalk.Hosting;

/// <summary>
/// How a problem's sentence names other settings it points at (<c>--tls-key needs --tls-cert</c>,
/// <c>drop Journal:Enabled=false</c>). The default names each by its configuration key under the section the server
/// was configured from; a command-line tool names a setting given as a flag by that flag.
/// </summary>
public interface ISettingNames
{
    /// <summary>How to name the setting <paramref name="key"/> (<c>Tls:Certificate</c>): its key, or the flag that sets it.</summary>
    string Name(string key);

    /// <summary>
    /// How to point at the value <paramref name="value"/> that <paramref name="key"/> has, for "drop this": by default
    /// <c>Journal:Enabled=false</c>; a tool may add where it came from, or name the flag that set it.
    /// </summary>
    string NameWithValue(string key, string value);
}

/// <summary>Names settings by their configuration keys, under <see cref="SectionPath"/> when there is one.</summary>
/// <param name="SectionPath">The path of the configuration section (<c>TcpTalk</c>); empty for the root.</param>
public sealed record SettingKeyNames(string SectionPath) : ISettingNames
{
    /// <summary>Keys as they are: the settings are at the root of the configuration.</summary>
    public static SettingKeyNames Root { get; } = new("");

    /// <inheritdoc/>
    public string Name(string key) => SectionPath.Length == 0 ? key : SectionPath + ":" + key;

    /// <inheritdoc/>
    public string NameWithValue(string key, string value) => $"{Name(key)}={value}";
}
