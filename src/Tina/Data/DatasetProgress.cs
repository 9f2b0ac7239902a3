namespace Tina.Data;

/// <summary>
/// A progress report from the dataset store: what is being done and how far along it is. Passed through
/// <see cref="IProgress{T}"/> so that a CLI can draw a progress bar and a library caller can ignore it.
/// </summary>
/// <param name="Stage">What is running, e.g. "Reading 101_ObjectCategories.tar.gz", "Decoding images", "Downloading".</param>
/// <param name="Fraction">Completed part of that stage in [0, 1], or <see cref="double.NaN"/> when unknown
/// (a download without a Content-Length).</param>
public readonly record struct DatasetProgress(string Stage, double Fraction);
