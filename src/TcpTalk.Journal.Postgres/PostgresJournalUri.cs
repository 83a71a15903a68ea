using System.Globalization;
using System.Text;
using Npgsql;

namespace TcpTalk.Journal.Postgres;

/// <summary>
/// A PostgreSQL journal's address in the libpq URI form,
/// <c>postgres://USER[:PASSWORD]@HOST[:PORT][,HOST2[:PORT2]...]/DATABASE[?param=value&amp;...]</c>, parsed once and
/// mapped onto Npgsql's connection settings. Several hosts are failover candidates, tried in order.
/// </summary>
/// <remarks>
/// Parts are percent-decoded as libpq does (<c>%40</c> for <c>@</c> in a password, <c>%2F</c> for a Unix socket
/// folder as host). A missing password is looked up by Npgsql itself, as libpq does: <c>PGPASSWORD</c>, then the
/// file named by <c>passfile</c> or <c>PGPASSFILE</c>, then <c>~/.pgpass</c>. Parameters besides libpq's usual ones:
/// <c>schema</c> (where the journal's tables live, default <see cref="DefaultSchema"/>) and Npgsql's
/// <c>host_recheck_seconds</c>. An unknown parameter is an error, so a typo never goes unnoticed.
/// </remarks>
public sealed class PostgresJournalUri
{
    /// <summary>The schema the journal uses when the URI has no <c>?schema=</c>.</summary>
    public const string DefaultSchema = "tcptalk";

    /// <summary>The default PostgreSQL port.</summary>
    public const int DefaultPort = 5432;

    private readonly Dictionary<string, string> _parameters;

    private PostgresJournalUri(string? user, string? password, IReadOnlyList<PostgresHost> hosts, string? database,
        string schema, Dictionary<string, string> parameters)
    {
        User = user;
        Password = password;
        Hosts = hosts;
        Database = database;
        Schema = schema;
        _parameters = parameters;
    }

    /// <summary>The user name, or null to let Npgsql choose (<c>PGUSER</c>, else the operating system user).</summary>
    public string? User { get; }

    /// <summary>The password given in the URI, or null to look it up (<c>PGPASSWORD</c>, <c>~/.pgpass</c>).</summary>
    public string? Password { get; }

    /// <summary>The hosts in the order they are tried; at least one.</summary>
    public IReadOnlyList<PostgresHost> Hosts { get; }

    /// <summary>The database name, or null for the default (the user name).</summary>
    public string? Database { get; }

    /// <summary>The schema holding the journal's tables (a plain identifier: letters, digits, underscores).</summary>
    public string Schema { get; }

    /// <summary>The <c>target_session_attrs</c> parameter as given, or null.</summary>
    public string? TargetSessionAttributes => _parameters.GetValueOrDefault("target_session_attrs");

    /// <summary>Whether <paramref name="text"/> starts like a PostgreSQL URI (<c>postgres://</c> or <c>postgresql://</c>).</summary>
    public static bool IsPostgresUri(string? text) =>
        text is not null && (text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) ||
                             text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase));

    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <exception cref="FormatException">The text is not a valid URI; the message names the part that is wrong.</exception>
    public static PostgresJournalUri Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        string scheme = schemeEnd < 0 ? "" : text[..schemeEnd];
        if (!scheme.Equals("postgres", StringComparison.OrdinalIgnoreCase) && !scheme.Equals("postgresql", StringComparison.OrdinalIgnoreCase))
        {
            throw Bad("it must start with postgres:// or postgresql://");
        }

        string rest = text[(schemeEnd + 3)..];
        int query = rest.IndexOf('?', StringComparison.Ordinal);
        string parameterText = query < 0 ? "" : rest[(query + 1)..];
        if (query >= 0)
        {
            rest = rest[..query];
        }

        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        string authority = slash < 0 ? rest : rest[..slash];
        string? database = slash < 0 || slash == rest.Length - 1 ? null : Decode(rest[(slash + 1)..], "database name");

        string? user = null;
        string? password = null;
        int at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            string userInfo = authority[..at];
            authority = authority[(at + 1)..];
            int colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            user = Decode(colon < 0 ? userInfo : userInfo[..colon], "user name");
            password = colon < 0 ? null : Decode(userInfo[(colon + 1)..], "password");
            if (user.Length == 0)
            {
                throw Bad("the user name before '@' is empty");
            }
        }

        var hosts = ParseHosts(authority);
        var parameters = ParseParameters(parameterText);
        string schema = parameters.Remove("schema", out var s) ? s : DefaultSchema;
        if (!IsPlainIdentifier(schema))
        {
            throw Bad($"schema '{schema}' must be 1 to 63 letters, digits or underscores, not starting with a digit");
        }

        if (database is not null && database.Contains('/', StringComparison.Ordinal))
        {
            throw Bad($"the database name '{database}' contains '/'");
        }

        var result = new PostgresJournalUri(user, password, hosts, database, schema, parameters);
        _ = result.ToConnectionStringBuilder(); // check the parameters' values now, not at the first connection
        return result;
    }

    /// <summary>
    /// Npgsql's connection settings for this URI. <c>Host Recheck Seconds</c> defaults to 1 (Npgsql's 10 would keep a
    /// freshly promoted standby marked read-only for 10 s after a failover); pooling stays on.
    /// </summary>
    public NpgsqlConnectionStringBuilder ToConnectionStringBuilder()
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = string.Join(',', Hosts.Select(h => h.ToString())),
            HostRecheckSeconds = 1,
        };
        if (User is not null)
        {
            builder.Username = User;
        }

        if (Password is not null)
        {
            builder.Password = Password;
        }

        if (Database is not null)
        {
            builder.Database = Database;
        }

        foreach (var (name, value) in _parameters)
        {
            Apply(builder, name, value);
        }

        return builder;
    }

    /// <summary>The URI without its password, for logs and error messages.</summary>
    public override string ToString()
    {
        var text = new StringBuilder("postgres://");
        if (User is not null)
        {
            text.Append(Uri.EscapeDataString(User)).Append('@');
        }

        text.AppendJoin(',', Hosts.Select(h => h.ToString()));
        text.Append('/').Append(Database is null ? "" : Uri.EscapeDataString(Database));
        text.Append("?schema=").Append(Schema);
        return text.ToString();
    }

    private static List<PostgresHost> ParseHosts(string authority)
    {
        if (authority.Length == 0)
        {
            throw Bad("it names no host (postgres://USER@HOST[:PORT]/DATABASE)");
        }

        var hosts = new List<PostgresHost>();
        int index = 0;
        foreach (string part in authority.Split(','))
        {
            index++;
            string host;
            string? port = null;
            if (part.StartsWith('['))
            {
                int close = part.IndexOf(']', StringComparison.Ordinal);
                if (close < 0)
                {
                    throw Bad($"host {index} ('{part}') opens '[' without closing it");
                }

                host = part[1..close];
                string after = part[(close + 1)..];
                if (after.Length > 0)
                {
                    port = after[0] == ':' ? after[1..] : throw Bad($"host {index} ('{part}') has '{after}' after ']'; write [ADDRESS]:PORT");
                }
            }
            else
            {
                int colon = part.IndexOf(':', StringComparison.Ordinal);
                host = Decode(colon < 0 ? part : part[..colon], $"host {index}");
                port = colon < 0 ? null : part[(colon + 1)..];
            }

            if (host.Length == 0)
            {
                throw Bad($"host {index} is empty");
            }

            int portNumber = DefaultPort;
            if (port is not null && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out portNumber) || portNumber is < 1 or > 65535))
            {
                throw Bad($"the port of host {index} ('{port}') is not a number from 1 to 65535");
            }

            hosts.Add(new PostgresHost(host, portNumber));
        }

        return hosts;
    }

    private static Dictionary<string, string> ParseParameters(string text)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        if (text.Length == 0)
        {
            return parameters;
        }

        foreach (string pair in text.Split('&'))
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw Bad($"parameter '{pair}' is not NAME=VALUE");
            }

            string name = Decode(pair[..equals], "parameter name");
            string value = Decode(pair[(equals + 1)..], $"parameter {name}");
            if (!KnownParameters.Contains(name))
            {
                throw Bad($"parameter '{name}' is unknown; known: {string.Join(", ", KnownParameters)}");
            }

            if (!parameters.TryAdd(name, value))
            {
                throw Bad($"parameter '{name}' is given twice");
            }
        }

        return parameters;
    }

    private static readonly string[] KnownParameters =
    [
        "schema", "sslmode", "connect_timeout", "application_name", "target_session_attrs", "options", "passfile",
        "sslrootcert", "sslcert", "sslkey", "sslpassword", "keepalives", "keepalives_idle", "keepalives_interval",
        "host_recheck_seconds",
    ];

    private static void Apply(NpgsqlConnectionStringBuilder builder, string name, string value)
    {
        switch (name)
        {
            case "sslmode":
                builder.SslMode = value switch
                {
                    "disable" => SslMode.Disable,
                    "allow" => SslMode.Allow,
                    "prefer" => SslMode.Prefer,
                    "require" => SslMode.Require,
                    "verify-ca" => SslMode.VerifyCA,
                    "verify-full" => SslMode.VerifyFull,
                    _ => throw Bad($"sslmode '{value}' is not one of disable, allow, prefer, require, verify-ca, verify-full"),
                };
                break;
            case "target_session_attrs":
                _ = ParseTarget(value); // our own sentence for a bad value; Npgsql takes libpq's spelling
                builder.TargetSessionAttributes = value;
                break;
            case "connect_timeout":
                builder.Timeout = Seconds(name, value, 0, 1024);
                break;
            case "keepalives":
                builder.TcpKeepAlive = value switch
                {
                    "1" => true,
                    "0" => false,
                    _ => throw Bad($"keepalives '{value}' must be 0 or 1"),
                };
                break;
            case "keepalives_idle":
                builder.TcpKeepAliveTime = Seconds(name, value, 1, 86_400);
                break;
            case "keepalives_interval":
                builder.TcpKeepAliveInterval = Seconds(name, value, 1, 86_400);
                break;
            case "host_recheck_seconds":
                builder.HostRecheckSeconds = Seconds(name, value, 0, 86_400);
                break;
            case "application_name":
                builder.ApplicationName = value;
                break;
            case "options":
                builder.Options = value;
                break;
            case "passfile":
                builder.Passfile = value;
                break;
            case "sslrootcert":
                builder.RootCertificate = value;
                break;
            case "sslcert":
                builder.SslCertificate = value;
                break;
            case "sslkey":
                builder.SslKey = value;
                break;
            case "sslpassword":
                builder.SslPassword = value;
                break;
            default:
                throw Bad($"parameter '{name}' is unknown");
        }
    }

    /// <summary>libpq's <c>target_session_attrs</c> values (and Npgsql's <c>prefer-primary</c>).</summary>
    internal static TargetSessionAttributes ParseTarget(string value) => value switch
    {
        "any" => Npgsql.TargetSessionAttributes.Any,
        "read-write" => Npgsql.TargetSessionAttributes.ReadWrite,
        "read-only" => Npgsql.TargetSessionAttributes.ReadOnly,
        "primary" => Npgsql.TargetSessionAttributes.Primary,
        "standby" => Npgsql.TargetSessionAttributes.Standby,
        "prefer-primary" => Npgsql.TargetSessionAttributes.PreferPrimary,
        "prefer-standby" => Npgsql.TargetSessionAttributes.PreferStandby,
        _ => throw Bad($"target_session_attrs '{value}' is not one of any, read-write, read-only, primary, standby, prefer-primary, prefer-standby"),
    };

    private static int Seconds(string name, string value, int min, int max) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int seconds) && seconds >= min && seconds <= max
            ? seconds
            : throw Bad($"parameter {name} '{value}' is not a whole number of seconds from {min} to {max}");

    private static string Decode(string part, string what)
    {
        try
        {
            return Uri.UnescapeDataString(part);
        }
        catch (UriFormatException e)
        {
            throw new FormatException($"PostgreSQL URI: the {what} has a bad percent escape: {e.Message}", e);
        }
    }

    internal static bool IsPlainIdentifier(string name) =>
        name.Length is >= 1 and <= 63 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static FormatException Bad(string what) => new($"PostgreSQL URI: {what}");
}

/// <summary>One failover candidate of a <see cref="PostgresJournalUri"/>: a host name, address or Unix socket folder, and a port.</summary>
/// <param name="Host">The host name, IP address, or (starting with <c>/</c>) the folder of the server's Unix socket.</param>
/// <param name="Port">The TCP port, or the number in the socket file's name.</param>
public readonly record struct PostgresHost(string Host, int Port)
{
    /// <summary><c>host:port</c>, with an IPv6 address in brackets: the form Npgsql's <c>Host</c> list takes.</summary>
    public override string ToString() =>
        Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
