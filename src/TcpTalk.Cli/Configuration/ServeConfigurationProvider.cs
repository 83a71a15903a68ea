using Microsoft.Extensions.Configuration;

namespace TcpTalk.Cli.Configuration;

/// <summary>
/// The host's configuration for <c>serve</c>: the merged layers of a <see cref="ServeConfiguration"/> (files,
/// environment, flags), read again at each <see cref="IConfigurationRoot.Reload"/> (SIGHUP, the file changed) with
/// the same inputs (appsettings.json looked for again, so one created since is read), so a flag still wins over the file. A reload whose layers cannot be used throws the
/// <see cref="UserErrorException"/> that names the setting, and the values in force stay (the reload token does not fire).
/// </summary>
internal sealed class ServeConfigurationProvider(ServeConfiguration initial) : ConfigurationProvider, IConfigurationSource
{
    private readonly ConfigurationInputs _inputs = initial.Inputs;
    private ServeConfiguration? _first = initial;

    /// <summary>A configuration root holding <paramref name="initial"/>'s values, reloadable.</summary>
    public static IConfigurationRoot Build(ServeConfiguration initial) =>
        new ConfigurationBuilder().Add(new ServeConfigurationProvider(initial)).Build();

    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    /// <exception cref="UserErrorException">The layers read now hold a value that cannot be used.</exception>
    public override void Load()
    {
        var configuration = _first ?? ServeConfiguration.Load(_inputs.Refound()); // throws before Data is touched
        _first = null;
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in configuration.HostValues())
        {
            data[key] = value;
        }

        Data = data;
    }
}
