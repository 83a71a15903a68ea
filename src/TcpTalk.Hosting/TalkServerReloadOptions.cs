namespace TcpTalk.Hosting;

/// <summary>What makes <see cref="TalkServerServiceCollectionExtensions.AddTalkServerReload"/> reload the settings.</summary>
public sealed class TalkServerReloadOptions
{
    /// <summary>Reload on SIGHUP (Linux, macOS; ignored on Windows), as daemons do and <c>systemctl reload</c> sends. Default true.</summary>
    public bool OnHangupSignal { get; set; } = true;

    /// <summary>
    /// Configuration files to watch: a change (written in place or replaced by a rename) reloads the configuration
    /// (<see cref="Microsoft.Extensions.Configuration.IConfigurationRoot.Reload"/>) and then the settings. Default
    /// empty: a JSON file added with <c>reloadOnChange: true</c> watches itself, and its change reloads the settings too.
    /// </summary>
    public IList<string> ConfigurationFiles { get; } = new List<string>();

    /// <summary>How long a watched file must stay unchanged before it is read (an editor writes in steps). Default 500 ms.</summary>
    public TimeSpan Debounce { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often watched files are compared besides the change notifications (which some file systems lack). Default 5 s.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The clock of the debounce and the poll. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
