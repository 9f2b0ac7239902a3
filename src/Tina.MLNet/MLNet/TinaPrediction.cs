namespace Tina.MLNet;

/// <summary>The prediction for one image.</summary>
/// <param name="Source">The image: its file path, or the name given for in-memory input.</param>
/// <param name="Label">The predicted label.</param>
/// <param name="ClassIndex">Index of <paramref name="Label"/> among the model's labels.</param>
/// <param name="Score">Softmax probability of <paramref name="Label"/>.</param>
/// <param name="Scores">Softmax probabilities of all classes, in the model's label order.</param>
public sealed record TinaPrediction(string Source, string Label, int ClassIndex, float Score, float[] Scores);
