using Npgsql;

namespace TcpTalk.Journal.Postgres;

/// <summary>
/// Builds Npgsql data sources the NativeAOT-friendly way: <see cref="NpgsqlSlimDataSourceBuilder"/> with only what
/// the journal uses (the basic types, TLS for <c>sslmode</c>), as a multi-host source so that each connection goes
/// to the first host that has the wanted role (read-write for the writer).
/// </summary>
internal static class PostgresDataSources
{
    public static NpgsqlMultiHostDataSource Build(NpgsqlConnectionStringBuilder settings)
    {
        var builder = new NpgsqlSlimDataSourceBuilder(settings.ConnectionString);
        builder.EnableTransportSecurity();
        return builder.BuildMultiHost();
    }
}
