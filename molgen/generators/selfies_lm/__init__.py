"""The SELFIES language-model generator: vocabulary, autoregressive model, sampling."""
