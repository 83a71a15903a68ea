namespace TcpTalk.Hosting;

/// <summary>What <see cref="TalkServerService.Reload"/> did with new settings.</summary>
/// <param name="Applied">Whether the new settings are in force (those that can change while serving).</param>
/// <param name="Changed">The keys whose new values are in force now (<c>Server:Greeting</c>), in key order.</param>
/// <param name="RestartNeeded">The keys that changed but cannot while serving: their old values stay until a restart.</param>
/// <param name="Problem">Why the settings were refused (one line naming the key), or null when applied.</param>
public sealed record SettingReload(bool Applied, IReadOnlyList<string> Changed, IReadOnlyList<string> RestartNeeded, string? Problem)
{
    internal static SettingReload Refuse(string problem) => new(false, [], [], problem);
}
