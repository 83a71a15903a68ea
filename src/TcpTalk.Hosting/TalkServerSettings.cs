using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Configuration;

namespace TcpTalk.Hosting;

/// <summary>
/// Every setting of a hosted TcpTalk server, one section per concern: <see cref="Server"/> (listeners, limits,
/// timeouts), <see cref="Journal"/> (the SQLite journal) and <see cref="Tls"/> (certificate files). Bound from a
/// configuration section by generated code (no reflection, so NativeAOT stays warning-free); a value that cannot be
/// used never throws while binding: <see cref="FindProblems"/> lists it with its key.
/// </summary>
public sealed class TalkServerSettings
{
    private readonly List<SettingProblem> _bindingProblems = [];

    /// <summary>The listener, limits and timeouts: <see cref="ServerSettings"/>.</summary>
    public ServerSettings Server { get; set; } = new();

    /// <summary>The message journal.</summary>
    public JournalSettings Journal { get; set; } = new();

    /// <summary>TLS certificate files.</summary>
    public TlsSettings Tls { get; set; } = new();

    /// <summary>The operator's HTTP endpoint (metrics, health, readiness); off by default.</summary>
    public AdminSettings Admin { get; set; } = new();

    /// <summary>
    /// Binds the settings from <paramref name="configuration"/> (its <c>Server</c>, <c>Journal</c> and <c>Tls</c>
    /// sections; other sections are another application's and are left alone). An unknown key in those sections,
    /// a number or switch that is not one, and text that cannot be parsed are kept for <see cref="FindProblems"/>.
    /// </summary>
    /// <param name="configuration">The section holding <c>Server</c>, <c>Journal</c> and <c>Tls</c> (or the root).</param>
    /// <param name="applicationKeys">Keys in those sections that the application reads itself: neither bound nor refused.</param>
    public static TalkServerSettings Bind(IConfiguration configuration, IReadOnlyCollection<string>? applicationKeys = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var settings = new TalkServerSettings();
        settings.BindFrom(configuration, applicationKeys ?? []);
        return settings;
    }

    /// <summary>
    /// Every setting that cannot be used, in order: keys and kinds, then text that did not parse, then the server's
    /// own ranges (<see cref="TcpTalk.Server.TalkServerOptions.FindProblems"/>), then settings that need one another. The
    /// certificate files are not read here (<see cref="TlsSettings.LoadOptions"/> does, at start).
    /// </summary>
    /// <param name="names">How a problem's sentence names the other settings it points at; default: by their keys.</param>
    public IReadOnlyList<SettingProblem> FindProblems(ISettingNames? names = null)
    {
        names ??= SettingKeyNames.Root;
        var problems = new List<SettingProblem>(_bindingProblems);
        problems.AddRange(Server.GetValues().Problems);
        problems.AddRange(Tls.GetValues().Problems);
        problems.AddRange(Admin.GetValues().Problems);
        problems.AddRange(Journal.FindProblems());
        if (problems.Count > 0)
        {
            return problems; // the options below hold defaults where the text did not parse
        }

        var options = Server.ToOptions();
        // The journal is opened and the certificate read at start: what needs them is checked below from the settings.
        var tlsTimeout = new TcpTalk.Server.ServerTlsOptions { HandshakeTimeout = Tls.GetHandshakeTimeout() };
        var found = options.FindProblems().Where(p => p.Property != nameof(options.Acknowledge))
            .Concat(tlsTimeout.FindProblems().Where(p => p.Property != "Tls.Certificate"));
        foreach (var problem in found)
        {
            bool tls = problem.Property.StartsWith("Tls.", StringComparison.Ordinal);
            string property = tls ? problem.Property[4..] : problem.Property;
            string? text = (tls ? Tls.GetValues() : Server.GetValues()).TextOf(property);
            problems.Add(new SettingProblem((tls ? "Tls:" : "Server:") + property, problem.IsOutOfRange
                ? $"{problem.Requirement}, not {text ?? TcpTalk.Server.OptionProblem.FormatValue(problem.Value)}"
                : problem.Requirement));
        }

        if (options.Acknowledge && !Journal.Enabled)
        {
            problems.Add(new SettingProblem("Server:Acknowledge",
                $"needs the journal: acknowledgements carry the journal id of a stored message (drop {names.NameWithValue("Journal:Enabled", "false")})"));
        }

        if (Tls.Certificate is null && (Tls.Key is not null ? "Tls:Key" : Tls.ClientCa is not null ? "Tls:ClientCa" : null) is { } stray)
        {
            problems.Add(new SettingProblem(stray, $"needs {names.Name("Tls:Certificate")} (the server's certificate)"));
        }

        return problems;
    }

    /// <summary>The settings as JSON, in the shape of the configuration they are bound from (durations as <c>5s</c>).</summary>
    public JsonObject ToJson() =>
        System.Text.Json.JsonSerializer.SerializeToNode(this, TalkServerSettingsJson.Default.TalkServerSettings)!.AsObject();

    internal void BindFrom(IConfiguration configuration, IReadOnlyCollection<string> applicationKeys)
    {
        var usable = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in configuration.AsEnumerable(makePathsRelative: true))
        {
            if (value is null || !TalkSettingKeys.IsInSections(key) || applicationKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            if (Check(key, value, applicationKeys) is { } problem)
            {
                _bindingProblems.Add(problem);
            }
            else
            {
                usable[key] = value;
            }
        }

        // Bound from the checked values only, so the generated binder never meets a value it would throw on.
        var values = new ConfigurationBuilder().AddInMemoryCollection(usable).Build();
        values.GetSection("Server").Bind(Server);
        values.GetSection("Journal").Bind(Journal);
        values.GetSection("Tls").Bind(Tls);
        values.GetSection("Admin").Bind(Admin);
    }

    private static SettingProblem? Check(string key, string value, IReadOnlyCollection<string> applicationKeys)
    {
        if (!TalkSettingKeys.Contains(key) && TalkSettingKeys.ListOf(key) is null)
        {
            string section = TalkSettingKeys.Canonical(key.Split(':')[0]);
            var keys = TalkSettingKeys.All.Concat(applicationKeys).Where(k => k.StartsWith(section + ":", StringComparison.OrdinalIgnoreCase)).Select(k => k[(section.Length + 1)..]);
            return new SettingProblem(TalkSettingKeys.Canonical(key), $"is not a setting (the {section} section has {string.Join(", ", keys)})");
        }

        string canonical = TalkSettingKeys.Canonical(key);
        return TalkSettingKeys.KindOf(key) switch
        {
            System.Text.Json.JsonValueKind.Number when !int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
                => new SettingProblem(canonical, $"must be a whole number, not '{value}'"),
            System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False when !bool.TryParse(value, out _)
                => new SettingProblem(canonical, $"must be true or false, not '{value}'"),
            _ => null,
        };
    }
}

/// <summary>Serializes <see cref="TalkServerSettings"/> (its JSON shape and the list of keys) without reflection.</summary>
[JsonSerializable(typeof(TalkServerSettings))]
[JsonSourceGenerationOptions(WriteIndented = false)]
internal sealed partial class TalkServerSettingsJson : JsonSerializerContext;
