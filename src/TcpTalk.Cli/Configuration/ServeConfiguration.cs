using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace TcpTalk.Cli.Configuration;

/// <summary>
/// Fills <see cref="ServeSettings"/> from its layers, lowest to highest: the built-in defaults, appsettings.json
/// (beside the executable, then in the working directory; or only <c>--config FILE</c>), environment variables
/// (<c>TCPTALK_</c> prefix, <c>__</c> between section and key) and the flags given on the command line. A list
/// (<c>Server:Listen</c>, <c>Allow</c>, <c>Deny</c>) comes whole from the highest layer that has it, never merged
/// element by element. Every value that cannot be used is one <see cref="UserErrorException"/> line naming the
/// setting, what it must be and where the value came from.
/// </summary>
internal sealed partial class ServeConfiguration
{
    /// <summary>The prefix of the environment variables read (<c>TCPTALK_SERVER__PORT</c> is <c>Server:Port</c>).</summary>
    public const string EnvironmentPrefix = "TCPTALK_";

    /// <summary>The file name looked for beside the executable and in the working directory.</summary>
    public const string FileName = "appsettings.json";

    private static readonly string[] CheckedSections = ["Server", "Journal", "Tls"];

    private readonly Dictionary<string, Entry> _effective;

    private ServeConfiguration(ServeSettings settings, Dictionary<string, Entry> effective, LogLevel level)
    {
        Settings = settings;
        _effective = effective;
        DefaultLogLevel = level;
    }

    /// <summary>The bound settings; the server options are valid (except what needs the journal or the TLS files).</summary>
    public ServeSettings Settings { get; }

    /// <summary><c>Logging:LogLevel:Default</c>, parsed.</summary>
    public LogLevel DefaultLogLevel { get; }

    /// <summary>The <c>Logging:LogLevel</c> entries other than <c>Default</c>: category prefix and minimum level.</summary>
    public IEnumerable<(string Category, LogLevel Level)> CategoryLogLevels =>
        Settings.Logging.LogLevel.Where(p => !p.Key.Equals("Default", StringComparison.OrdinalIgnoreCase)).Select(p => (p.Key, ParseLevel(p.Value)!.Value));

    /// <summary>
    /// Reads every layer and binds. <paramref name="flags"/> are the flags given explicitly: configuration key, flag
    /// name, and the values as typed (one for a scalar, any number for a list).
    /// </summary>
    /// <exception cref="UserErrorException">A file is missing or not JSON, or a value cannot be used (<see cref="ExitCode.Usage"/>).</exception>
    public static ServeConfiguration Load(string? configFile, IReadOnlyList<(string Key, string Flag, IReadOnlyList<string> Values)> flags)
    {
        var known = Flatten(JsonSerializer.SerializeToElement(new ServeSettings(), ServeSettingsJson.Default.ServeSettings));
        var layers = new List<Layer>();
        var builder = new ConfigurationBuilder();
        foreach (string file in SettingsFiles(configFile))
        {
            builder.AddJsonFile(file, optional: false, reloadOnChange: false);
            layers.Add(new Layer(_ => file));
        }

        builder.AddEnvironmentVariables(EnvironmentPrefix);
        layers.Add(new Layer(key => "environment " + EnvironmentPrefix + key.Replace(":", "__", StringComparison.Ordinal).ToUpperInvariant()));
        var flagValues = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var flagNames = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, flag, values) in flags)
        {
            flagNames[key] = flag;
            bool isList = known.TryGetValue(key, out var kind) && kind == JsonValueKind.Array;
            for (int i = 0; i < values.Count; i++)
            {
                flagValues[isList ? $"{key}:{i}" : key] = values[i];
            }
        }

        builder.AddInMemoryCollection(flagValues);
        layers.Add(new Layer(key => flagNames.GetValueOrDefault(ListKey(key, known) ?? key, key), IsFlag: true));

        IConfigurationRoot root;
        try
        {
            root = builder.Build();
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or JsonException or IOException)
        {
            throw new UserErrorException(ExitCode.Usage, DescribeUnreadable(SettingsFiles(configFile), e), e);
        }

        var effective = Merge(root.Providers.ToList(), layers, known);
        var configuration = new ServeConfiguration(new ServeSettings(), effective, LogLevel.Information);
        configuration.CheckKeysAndTypes(known);
        return configuration.Bind();
    }

    /// <summary>Where a setting's value came from: <c>default</c>, the file, the environment variable or the flag.</summary>
    public string SourceOf(string key)
    {
        if (_effective.TryGetValue(key, out var entry) || _effective.TryGetValue(key + ":0", out entry))
        {
            return entry.Source;
        }

        return "default";
    }

    /// <summary>How to name a setting to the user: its flag when the value came from one, else its key.</summary>
    public string Name(string key) =>
        (_effective.TryGetValue(key, out var entry) || _effective.TryGetValue(key + ":0", out entry)) && entry.FromFlag ? entry.Source : Canonical(key);

    /// <summary>Whether <paramref name="key"/>'s value was given as a flag.</summary>
    public bool FromFlag(string key) => (_effective.TryGetValue(key, out var entry) || _effective.TryGetValue(key + ":0", out entry)) && entry.FromFlag;

    /// <summary>Whether any layer above the defaults sets <paramref name="key"/>.</summary>
    public bool IsSet(string key) => _effective.ContainsKey(key) || _effective.ContainsKey(key + ":0");

    /// <summary>A usage error about <paramref name="key"/>: <c>Server:Port must be ..., not 70000 (from FILE)</c>, or with the flag's name.</summary>
    public UserErrorException Error(string key, string problem)
    {
        bool known = _effective.TryGetValue(key, out var entry) || _effective.TryGetValue(key + ":0", out entry);
        string message = known && entry.FromFlag ? $"{entry.Source} {problem}"
            : known ? $"{Canonical(key)} {problem} (from {entry.Source})"
            : $"{Canonical(key)} {problem}";
        return new UserErrorException(ExitCode.Usage, message);
    }

    /// <summary>The effective configuration as JSON (usable as an appsettings.json), each value's source in a comment.</summary>
    public string Describe()
    {
        var json = JsonSerializer.SerializeToElement(Settings, ServeSettingsJson.Default.ServeSettings);
        var text = new StringBuilder();
        Write(text, json, path: null, indent: 0);
        return text.AppendLine().ToString();
    }

    private void Write(StringBuilder text, JsonElement element, string? path, int indent)
    {
        text.Append("{\n");
        var properties = element.EnumerateObject().ToList();
        for (int i = 0; i < properties.Count; i++)
        {
            var property = properties[i];
            string key = path is null ? property.Name : path + ":" + property.Name;
            text.Append(' ', (indent + 1) * 2).Append(JsonSerializer.Serialize(property.Name, ServeSettingsJson.Default.String)).Append(": ");
            string comma = i < properties.Count - 1 ? "," : "";
            if (property.Value.ValueKind == JsonValueKind.Object)
            {
                Write(text, property.Value, key, indent + 1);
                text.Append(comma).Append('\n');
            }
            else
            {
                text.Append(property.Value.GetRawText()).Append(comma).Append("  // ").Append(SourceOf(key)).Append('\n');
            }
        }

        text.Append(' ', indent * 2).Append('}');
    }

    private ServeConfiguration Bind()
    {
        var values = new ConfigurationBuilder().AddInMemoryCollection(_effective.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value.Value))).Build();
        var settings = new ServeSettings();
        string section = "";
        try
        {
            section = "Server";
            values.GetSection(section).Bind(settings.Server);
            section = "Journal";
            values.GetSection(section).Bind(settings.Journal);
            section = "Tls";
            values.GetSection(section).Bind(settings.Tls);
            section = "Logging";
            values.GetSection(section).Bind(settings.Logging);
        }
        catch (SettingValueException e)
        {
            throw Error(section + ":" + e.Property, e.Problem);
        }

        var bound = new ServeConfiguration(settings, _effective, ParseLevel(settings.Logging.LogLevel.GetValueOrDefault("Default", "Information"))!.Value);
        bound.Validate();
        return bound;
    }

    private void Validate()
    {
        var options = Settings.Server.ToOptions();
        bool acknowledge = options.Acknowledge;
        try
        {
            options.Acknowledge = false; // needs the journal, which is opened later: checked below instead
            options.Validate();
        }
        catch (ArgumentException e)
        {
            // "Port is 70000; it must be between 0 and 65535" -> "Server:Port must be between 0 and 65535, not 70000 (from ...)".
            var range = RangeMessage().Match(e.Message);
            if (range.Success)
            {
                string key = "Server:" + range.Groups["name"].Value;
                string value = _effective.TryGetValue(key, out var entry) ? entry.Value : range.Groups["value"].Value;
                throw Error(key, $"must be {range.Groups["range"].Value}, not {value}");
            }

            var named = NamedMessage().Match(e.Message);
            throw named.Success ? Error("Server:" + named.Groups["name"].Value, named.Groups["rest"].Value) : new UserErrorException(ExitCode.Usage, e.Message, e);
        }
        finally
        {
            options.Acknowledge = acknowledge;
        }

        if (acknowledge && !Settings.Journal.Enabled)
        {
            string journal = FromFlag("Journal:Enabled") ? Name("Journal:Enabled")
                : $"Journal:Enabled=false{(IsSet("Journal:Enabled") ? " from " + SourceOf("Journal:Enabled") : "")}";
            throw Error("Server:Acknowledge", $"needs the journal: acknowledgements carry the journal id of a stored message (drop {journal})");
        }

        var tls = Settings.Tls;
        if (tls.Certificate is null)
        {
            // A handshake timeout alone is harmless in a file (--print-config writes one); as a flag it is a mistake.
            string? stray = tls.Key is not null ? "Tls:Key" : tls.ClientCa is not null ? "Tls:ClientCa"
                : FromFlag("Tls:HandshakeTimeout") ? "Tls:HandshakeTimeout" : null;
            if (stray is not null)
            {
                throw Error(stray, $"needs {(FromFlag(stray) ? "--tls-cert" : "Tls:Certificate")} (the server's certificate)");
            }
        }
    }

    private void CheckKeysAndTypes(Dictionary<string, JsonValueKind> known)
    {
        foreach (var (key, entry) in _effective)
        {
            string section = key.Split(':')[0];
            if (section.Equals("Logging", StringComparison.OrdinalIgnoreCase))
            {
                if (key.StartsWith("Logging:LogLevel:", StringComparison.OrdinalIgnoreCase) && ParseLevel(entry.Value) is null)
                {
                    throw Error(key, $"must be Trace, Debug, Information, Warning, Error, Critical or None, not '{entry.Value}'");
                }

                continue;
            }

            if (!CheckedSections.Contains(section, StringComparer.OrdinalIgnoreCase))
            {
                continue; // other applications' sections in a shared appsettings.json
            }

            string? list = ListKey(key, known);
            if (list is null && !known.ContainsKey(key))
            {
                var keys = known.Keys.Where(k => k.StartsWith(section + ":", StringComparison.OrdinalIgnoreCase)).Select(k => k[(section.Length + 1)..]);
                throw Error(key, $"is not a setting (the {Canonical(section)} section has {string.Join(", ", keys)})");
            }

            var kind = list is null ? known[key] : JsonValueKind.String;
            if (kind == JsonValueKind.Number && !int.TryParse(entry.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            {
                throw Error(key, $"must be a whole number, not '{entry.Value}'");
            }

            if (kind is JsonValueKind.True or JsonValueKind.False && !bool.TryParse(entry.Value, out _))
            {
                throw Error(key, $"must be true or false, not '{entry.Value}'");
            }
        }
    }

    private static Dictionary<string, Entry> Merge(List<IConfigurationProvider> providers, List<Layer> layers, Dictionary<string, JsonValueKind> known)
    {
        var merged = new Dictionary<string, Entry>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < providers.Count; i++)
        {
            var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            Walk(providers[i], null, values);
            // A list comes whole from the highest layer that has it: drop what lower layers said of it.
            foreach (string list in values.Keys.Select(k => ListKey(k, known)).OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase).ToList())
            {
                foreach (string stale in merged.Keys.Where(k => ListKey(k, known) is { } l && l.Equals(list, StringComparison.OrdinalIgnoreCase)).ToList())
                {
                    merged.Remove(stale);
                }

                // One value for the whole list (TCPTALK_SERVER__ALLOW="10.0.0.0/8,192.168.0.0/16"): split at commas.
                if (values.Remove(list, out string? joined))
                {
                    string[] items = joined.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries);
                    for (int n = 0; n < items.Length; n++)
                    {
                        merged[$"{list}:{n}"] = new Entry(items[n], layers[i].Describe(list), layers[i].IsFlag);
                    }
                }
            }

            foreach (var (key, value) in values)
            {
                merged[key] = new Entry(value, layers[i].Describe(ListKey(key, known) ?? key), layers[i].IsFlag);
            }
        }

        return merged;
    }

    private static void Walk(IConfigurationProvider provider, string? path, Dictionary<string, string> values)
    {
        foreach (string child in provider.GetChildKeys([], path).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            string key = path is null ? child : path + ":" + child;
            if (provider.TryGet(key, out string? value) && value is not null)
            {
                values[key] = value;
            }

            Walk(provider, key, values);
        }
    }

    /// <summary>The list setting <paramref name="key"/> is (<c>Server:Listen</c>) or is an element of (<c>Server:Listen:0</c>); else null.</summary>
    private static string? ListKey(string key, Dictionary<string, JsonValueKind> known)
    {
        if (known.TryGetValue(key, out var kind))
        {
            return kind == JsonValueKind.Array ? key : null;
        }

        int colon = key.LastIndexOf(':');
        return colon > 0 && int.TryParse(key.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out _)
            && known.TryGetValue(key[..colon], out kind) && kind == JsonValueKind.Array ? key[..colon] : null;
    }

    private static Dictionary<string, JsonValueKind> Flatten(JsonElement element)
    {
        var keys = new Dictionary<string, JsonValueKind>(StringComparer.OrdinalIgnoreCase);
        void Visit(JsonElement e, string? path)
        {
            foreach (var property in e.EnumerateObject())
            {
                string key = path is null ? property.Name : path + ":" + property.Name;
                if (property.Value.ValueKind == JsonValueKind.Object)
                {
                    Visit(property.Value, key);
                }
                else
                {
                    keys[key] = property.Value.ValueKind;
                }
            }
        }

        Visit(element, null);
        return keys;
    }

    private static string Canonical(string key)
    {
        var known = Flatten(JsonSerializer.SerializeToElement(new ServeSettings(), ServeSettingsJson.Default.ServeSettings));
        return known.Keys.FirstOrDefault(k => k.Equals(key, StringComparison.OrdinalIgnoreCase))
            ?? string.Join(':', key.Split(':').Select((part, i) => i == 0 && CheckedSections.FirstOrDefault(s => s.Equals(part, StringComparison.OrdinalIgnoreCase)) is { } s ? s : part));
    }

    private static IEnumerable<string> SettingsFiles(string? configFile)
    {
        if (configFile is not null)
        {
            string full = Path.GetFullPath(configFile);
            return File.Exists(full) ? [full] : throw new UserErrorException(ExitCode.Usage, $"--config {configFile}: no such file");
        }

        return new[] { Path.Combine(AppContext.BaseDirectory, FileName), Path.GetFullPath(FileName) }
            .Distinct(StringComparer.Ordinal).Where(File.Exists);
    }

    private static string DescribeUnreadable(IEnumerable<string> files, Exception error)
    {
        foreach (string file in files)
        {
            try
            {
                using var document = JsonDocument.Parse(File.ReadAllBytes(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return $"{file}: not a JSON object (an appsettings.json holds {{ \"Server\": {{ \"Port\": 12345 }} }})";
                }
            }
            catch (JsonException e)
            {
                return $"{file}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})";
            }
            catch (IOException e)
            {
                return $"{file}: cannot be read: {e.Message}";
            }
        }

        return $"cannot read the configuration: {error.Message}";
    }

    private static LogLevel? ParseLevel(string? text) =>
        Enum.TryParse<LogLevel>(text, ignoreCase: true, out var level) && Enum.IsDefined(level) && !int.TryParse(text, out _) ? level : null;

    [GeneratedRegex(@"^(?<name>[A-Za-z]+) is (?<value>.*?); it must be (?<range>.+)$")]
    private static partial Regex RangeMessage();

    [GeneratedRegex(@"^(?<name>[A-Za-z]+) (?<rest>(is|must|needs) .+)$")]
    private static partial Regex NamedMessage();

    private sealed record Layer(Func<string, string> Describe, bool IsFlag = false);

    private readonly record struct Entry(string Value, string Source, bool FromFlag);
}
