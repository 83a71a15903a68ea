namespace TcpTalk.Hosting;

/// <summary>
/// One setting that cannot be used, as the configuration names it: its key (<c>Server:Port</c>, relative to the
/// section given to <see cref="TalkServerServiceCollectionExtensions.AddTalkServer(Microsoft.Extensions.DependencyInjection.IServiceCollection, Microsoft.Extensions.Configuration.IConfiguration)"/>)
/// and what is wrong with its value. Where the value came from (a file, a variable, a flag) is for the layer that
/// loaded the configuration to add.
/// </summary>
/// <param name="Key">The configuration key, spelled as <see cref="TalkSettingKeys.All"/> spells it.</param>
/// <param name="Problem">
/// What is wrong, worded to follow the setting's name: <c>must be between 0 and 65535, not 70000</c>,
/// <c>must be a duration (5s, 250ms, 2m), not 'soon'</c>.
/// </param>
public sealed record SettingProblem(string Key, string Problem)
{
    /// <summary>The key and the problem: <c>Server:Port must be between 0 and 65535, not 70000</c>.</summary>
    public override string ToString() => $"{Key} {Problem}";
}
