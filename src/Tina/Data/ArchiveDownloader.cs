using System.Net;
using System.Net.Http.Headers;

namespace Tina.Data;

/// <summary>
/// Downloads one file over HTTP(S) into a <c>.part</c> file, resuming a previous partial download with a Range
/// request when the server supports it. Network failures surface as <see cref="HttpRequestException"/> or
/// <see cref="TimeoutException"/>; the caller turns them into user-facing errors.
/// </summary>
internal static class ArchiveDownloader
{
    /// <summary>A download that receives nothing for this long is abandoned.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The shared client used when the store is not given one.</summary>
    public static HttpClient DefaultClient => LazyClient.Value;

    private static readonly Lazy<HttpClient> LazyClient = new(() =>
    {
        var client = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(30),
            AutomaticDecompression = DecompressionMethods.None,
            AllowAutoRedirect = true,
        })
        { Timeout = Timeout.InfiniteTimeSpan }; // time limits come from IdleTimeout
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("Tina.MLNet", "1.0"));
        return client;
    });

    /// <summary>Downloads <paramref name="url"/> to <paramref name="partPath"/>, appending to it if it already holds a prefix.</summary>
    /// <exception cref="HttpRequestException">Connection, DNS or HTTP status failure.</exception>
    /// <exception cref="TimeoutException">Nothing arrived for <see cref="IdleTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task DownloadAsync(HttpClient client, Uri url, string partPath, IProgress<DatasetProgress>? progress,
        string stage, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            long existing = File.Exists(partPath) ? new FileInfo(partPath).Length : 0;
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            idle.CancelAfter(IdleTimeout);
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (existing > 0) request.Headers.Range = new RangeHeaderValue(existing, null);
            HttpResponseMessage response;
            try
            {
                response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, idle.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"no response within {IdleTimeout.TotalSeconds:0} s", e);
            }
            using (response)
            {
                if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && existing > 0 && attempt == 0)
                {
                    File.Delete(partPath); // the partial file does not fit the server's file: start over
                    continue;
                }
                if (!response.IsSuccessStatusCode)
                    throw new HttpRequestException($"the server answered {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
                bool append = existing > 0 && response.StatusCode == HttpStatusCode.PartialContent;
                long offset = append ? existing : 0;
                long? total = response.Content.Headers.ContentLength is { } len ? len + offset : null;
                await using var body = await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false);
                await using var file = new FileStream(partPath, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
                var buffer = new byte[1 << 16];
                long received = offset, lastReport = -1;
                while (true)
                {
                    idle.CancelAfter(IdleTimeout);
                    int n;
                    try
                    {
                        n = await body.ReadAsync(buffer, idle.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
                    {
                        throw new TimeoutException($"no data for {IdleTimeout.TotalSeconds:0} s after {received:N0} bytes", e);
                    }
                    if (n == 0) break;
                    await file.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                    received += n;
                    if (progress is not null && received - lastReport >= (1 << 20))
                    {
                        lastReport = received;
                        progress.Report(new DatasetProgress(stage, total is > 0 ? (double)received / total.Value : double.NaN));
                    }
                }
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
                if (total is { } t && received != t)
                    throw new HttpRequestException($"the connection closed after {received:N0} of {t:N0} bytes");
                progress?.Report(new DatasetProgress(stage, 1));
                return;
            }
        }
    }
}
