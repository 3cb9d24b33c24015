// Live fee preview on the proposal form: asks /bids/quote as the price or hours change.
(function () {
  const box = document.getElementById("bid-quote");
  const amount = document.getElementById("amount");
  if (!box || !amount) return;
  const hours = document.getElementById("estimated_hours");
  const text = box.querySelector("[data-quote-text]");
  const money = new Intl.NumberFormat(undefined, { style: "currency", currency: box.dataset.currency });
  const show = (minor) => money.format(minor / 100);
  let timer;
  function update() {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (!amount.value) return;
      const url = new URL(box.dataset.quoteUrl, window.location.origin);
      url.searchParams.set("amount", amount.value);
      if (hours && hours.value) url.searchParams.set("estimated_hours", hours.value);
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      const data = await response.json();
      text.textContent = response.ok
        ? `The business pays ${show(data.total)}, the platform fee is ${show(data.fee)} and you receive ${show(data.payout)}.`
        : data.message;
    }, 250);
  }
  amount.addEventListener("input", update);
  if (hours) hours.addEventListener("input", update);
  box.dataset.ready = "true";  // listening from now on (browser tests wait for this before typing)
})();
